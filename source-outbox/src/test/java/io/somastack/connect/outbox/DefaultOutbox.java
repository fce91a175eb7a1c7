package io.somastack.connect.outbox;

/** The outbox the relay makes by default (sql/outbox.sql): public.outbox, its dlq, soma_outbox. */
final class DefaultOutbox {

  private DefaultOutbox() {}

  /** The DDL of public.outbox and public.dlq with the default columns and notify channel. */
  static String script() {
    return OutboxDdl.script(
        OutboxTable.parse("public.outbox"),
        OutboxColumns.defaults(),
        "soma_outbox",
        OutboxTable.parse("public.dlq"));
  }
}
