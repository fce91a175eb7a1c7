package io.somastack.connect.qdrant.embed;

/** The embedders a connector can be configured with ({@code embedder=hashing|field|openai}). */
public enum EmbedderKind {
  HASHING,
  FIELD,
  OPENAI
}
