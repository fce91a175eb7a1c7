-- soma_audit_verify(audit_table): lists every row of an audit table written by soma-connect's
-- PostgreSQL sink (write.mode=audit) that was edited or deleted after it was written.
--
-- Each row carries row_hash = sha256(prev_hash || material), where material is
--   event_id|kafka_topic|kafka_partition|kafka_offset|event_time in epoch microseconds|payload::text
-- and prev_hash is the row_hash of the previous row of the same Kafka topic-partition. So:
--   * an edited row no longer matches its own hash ("row edited");
--   * a deleted row breaks the link of the row after it ("chain broken");
--   * deleted rows at the end of a chain no longer hold the head recorded in
--     soma_audit_chain_heads ("last rows deleted").
-- Usage: SELECT * FROM soma_audit_verify('public.audit_events');  -- no rows: the table is intact
CREATE OR REPLACE FUNCTION soma_audit_verify(audit_table regclass)
RETURNS TABLE (kafka_topic text, kafka_partition integer, kafka_offset bigint, problem text)
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH chained AS (
      SELECT a.kafka_topic, a.kafka_partition, a.kafka_offset, a.prev_hash, a.row_hash,
             sha256(coalesce(a.prev_hash, ''::bytea) || convert_to(concat_ws('|',
               a.event_id, a.kafka_topic, a.kafka_partition, a.kafka_offset,
               (extract(epoch FROM a.event_time) * 1000000)::bigint, a.payload::text), 'UTF8'))
               AS expected_hash,
             lag(a.row_hash) OVER w AS previous_hash,
             row_number() OVER w AS n
        FROM %1$s a
      WINDOW w AS (PARTITION BY a.kafka_topic, a.kafka_partition ORDER BY a.kafka_offset)
    )
    SELECT c.kafka_topic, c.kafka_partition, c.kafka_offset,
           CASE WHEN c.row_hash IS DISTINCT FROM c.expected_hash
                  THEN 'row edited: its hash does not match its contents'
                WHEN c.n > 1 AND c.prev_hash IS DISTINCT FROM c.previous_hash
                  THEN 'chain broken: the row before it was deleted or edited'
                ELSE 'chain broken: rows before the first one were deleted'
           END
      FROM chained c
     WHERE c.row_hash IS DISTINCT FROM c.expected_hash
        OR (c.n > 1 AND c.prev_hash IS DISTINCT FROM c.previous_hash)
        OR (c.n = 1 AND c.prev_hash IS NOT NULL)
    UNION ALL
    SELECT h.kafka_topic, h.kafka_partition, h.kafka_offset,
           'last rows deleted: the recorded chain head is gone'
      FROM soma_audit_chain_heads h
     WHERE h.table_name = %2$L
       AND NOT EXISTS (SELECT 1 FROM %1$s a
                        WHERE a.kafka_topic = h.kafka_topic
                          AND a.kafka_partition = h.kafka_partition
                          AND a.row_hash = h.row_hash)
     ORDER BY 1, 2, 3
  $q$, audit_table, audit_table::text);
END
$fn$;
