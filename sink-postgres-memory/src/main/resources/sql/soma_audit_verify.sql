-- soma_audit_verify(audit_table): lists every row of an audit table written by soma-connect's
-- PostgreSQL sink (write.mode=audit) that was edited, deleted or added after it was written.
--
-- Each row carries row_hash = sha256(prev_hash || material), where material is
--   event_id|kafka_topic|kafka_partition|kafka_offset|event_time in epoch microseconds|payload::text
-- followed by soma_audit_columns_text of its other columns (the typed columns extracted from the
-- event), and prev_hash is the row_hash of the row linked before it in the same Kafka
-- topic-partition (NULL for the chain's first row). The check follows those links, not the
-- offsets, which start again at 0 for a topic deleted and made again. So:
--   * an edited row (any column but ingested_at) no longer matches its own hash ("row edited");
--   * a deleted row leaves the row after it pointing at nothing ("chain broken");
--   * deleted rows at the end of a chain no longer hold the head recorded in
--     soma_audit_chain_heads ("last rows deleted");
--   * a row added by hand with a hash made as the sink makes it follows a row that another row
--     follows already ("chain forked") or the recorded head ("row after the chain head").
--   * rows of a topic-partition the sink never wrote have no head ("chain without a recorded
--     head").
-- Rows retired by soma_audit_retire (soma_audit_retire.sql) are gone on purpose: a row linked to
-- one of them, and a head that is one of them, match an anchor it recorded in soma_audit_retired
-- and are not reported; a link to a row gone any other way still is. A retired row that followed a
-- row still here (a follower) counts as that row's follower, so a row forged beside it forks the
-- chain, and it is reported when the row it followed is gone. A record whose event time is not
-- before its cutoff was not written by soma_audit_retire, and is reported.
-- Usage: SELECT * FROM soma_audit_verify('public.audit_events');  -- no rows: the table is intact

-- soma_audit_columns_text(names, types, vals): the part of the material that covers the typed
-- columns. For each column holding a value, in name order: |name=length:text, where text is the
-- value as PostgreSQL prints its type under fixed settings (UTC, ISO dates, shortest exact floats),
-- so the sink, which hashes what it is about to write, and this check, which hashes what is stored,
-- print it alike whatever their sessions' settings. A NULL adds nothing: a column added later
-- leaves older rows' material as it was, and a value set or cleared afterwards changes it. A NULL
-- type adds nothing either: the sink passes it for a column it does not cover (see below).
--
-- Every function here runs with search_path = pg_catalog, pg_temp: a name left to the caller's
-- path (or the sink's) could resolve to a function or operator another role created in a schema
-- on it (public.format, a closer match than pg_catalog.format(text, VARIADIC "any")), which would
-- run as whoever calls the check, a superuser say. What they use of the sink's own is named with
-- its schema, spelled out by the installer in the constants below: @tables_schema@ (the schema of
-- soma_audit_chain_heads and soma_audit_retired), @functions_schema@ (the schema of these
-- functions) and @sink_search_path@ (the sink's search_path, schema by schema). The sink
-- (AuditSchema) fills them in as it installs the file; an auditor installing a copy by hand does so
-- too (docs/audit-archival.md).
CREATE OR REPLACE FUNCTION soma_audit_columns_text(names text[], types text[], vals text[])
RETURNS text LANGUAGE sql STABLE
SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
SET extra_float_digits = 3 SET search_path = pg_catalog, pg_temp AS $fn$
  SELECT coalesce(string_agg('|' || c.name || '=' || length(c.t) || ':' || c.t, ''
                             ORDER BY c.name COLLATE "C"), '')
    FROM (SELECT u.name,
                 CASE u.type
                   WHEN 'timestamp with time zone' THEN u.val::timestamptz::text
                   WHEN 'double precision' THEN u.val::float8::text
                   WHEN 'bigint' THEN u.val::int8::text
                   WHEN 'boolean' THEN u.val::boolean::text
                   WHEN 'uuid' THEN u.val::uuid::text
                   WHEN 'jsonb' THEN u.val::jsonb::text
                   ELSE u.val
                 END AS t
            FROM unnest(names, types, vals) AS u(name, type, val)
           WHERE u.val IS NOT NULL AND u.type IS NOT NULL) c
$fn$;

CREATE OR REPLACE FUNCTION soma_audit_verify(audit_table regclass)
RETURNS TABLE (kafka_topic text, kafka_partition integer, kafka_offset bigint, problem text)
LANGUAGE plpgsql STABLE
-- the typed columns are printed here (a.col::text) and read back by soma_audit_columns_text:
-- these settings make that round trip exact whatever the caller's session uses
SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
SET extra_float_digits = 3
-- hash joins whatever the statistics say: with the heads' taken when they were few, a nested loop
-- would scan the rows once per head; and a merge join, sorted by topic and partition alone for the
-- heads' join, compares each row with every row of its partition (30,000 rows: 900 million
-- comparisons, minutes; millions of rows: never done)
SET enable_nestloop = off SET enable_mergejoin = off
-- nothing resolved through a path another role may create in (see above)
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  -- spelled out by the installer: a "$user" kept as such would mean the caller's schema
  sink_search_path constant text := '@sink_search_path@';
  tables_schema constant text := '@tables_schema@';
  functions_schema constant text := '@functions_schema@';
  -- the chain heads name their table as regclass prints it under the sink's search_path
  -- (unqualified where its schema is on that path): the caller's must not change it
  table_key text;
  names text[];
  types text[];
  vals text;
BEGIN
  -- printed under the sink's path, with nothing but the cast run meanwhile
  PERFORM pg_catalog.set_config('search_path', sink_search_path, true);
  table_key := audit_table::text;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  -- every column but those the material names itself, the chain's own and ingested_at, and
  -- those the database fills itself (a default, generated, identity): the sink writes none of
  -- them, so it cannot hash the value a row gets there (the sink leaves them out alike)
  SELECT coalesce(array_agg(a.attname::text ORDER BY a.attnum), '{}'),
         coalesce(array_agg(format_type(a.atttypid, NULL) ORDER BY a.attnum), '{}'),
         'ARRAY[' || coalesce(string_agg(format('a.%I::text', a.attname), ', '
                                         ORDER BY a.attnum), '') || ']::text[]'
    INTO names, types, vals
    FROM pg_attribute a
   WHERE a.attrelid = audit_table AND a.attnum > 0 AND NOT a.attisdropped
     AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
     AND a.attname NOT IN ('event_id', 'event_time', 'payload', 'kafka_topic', 'kafka_partition',
                           'kafka_offset', 'prev_hash', 'row_hash', 'ingested_at');
  RETURN QUERY EXECUTE format($q$
    WITH chained AS (
      SELECT a.kafka_topic, a.kafka_partition, a.kafka_offset, a.prev_hash, a.row_hash,
             sha256(coalesce(a.prev_hash, ''::bytea) || convert_to(concat_ws('|',
               a.event_id, a.kafka_topic, a.kafka_partition, a.kafka_offset,
               (extract(epoch FROM a.event_time) * 1000000)::bigint, a.payload::text)
               || %3$s, 'UTF8'))
               AS expected_hash,
             -- the rows linked after the same row (or starting the chain, prev_hash NULL)
             count(*) OVER (PARTITION BY a.kafka_topic, a.kafka_partition, a.prev_hash)
               AS followers
        FROM %1$s a
    ),
    -- one per chain the sink wrote
    heads AS (
      SELECT h.kafka_topic, h.kafka_partition, h.kafka_offset, h.row_hash
        FROM %4$I.soma_audit_chain_heads h
       WHERE h.table_name = %2$L
    ),
    -- the rows soma_audit_retire took away that are still part of what is checked: anchors, which
    -- rows here link to (or the head is), and followers, which linked to a row here (or started
    -- their chain); unique per chain and hash while live
    retired AS (
      SELECT r.kafka_topic, r.kafka_partition, r.kafka_offset, r.row_hash, r.prev_hash, r.anchor,
             r.follower, r.event_time, r.retired_before
        FROM %4$I.soma_audit_retired r
       WHERE r.table_name = %2$L AND r.superseded_at IS NULL
    ),
    anchors AS (SELECT * FROM retired WHERE anchor),
    present AS (SELECT DISTINCT kafka_topic, kafka_partition, row_hash FROM chained),
    -- retired followers per row they followed; '' (never a sha256) for a chain's start, so that
    -- the join stays an equality and hashes
    retired_followers AS (
      SELECT kafka_topic, kafka_partition, coalesce(prev_hash, ''::bytea) AS prev_key,
             count(*) AS n
        FROM retired WHERE follower
       GROUP BY 1, 2, 3
    ),
    -- joins, not a subquery per row: the table has no index on row_hash
    linked AS (
      SELECT c.*, p.row_hash IS NOT NULL AS previous_found,
             h.kafka_topic IS NOT NULL AS has_head, h.row_hash = c.prev_hash AS after_head,
             r.row_hash IS NOT NULL AS previous_retired,
             c.followers + coalesce(f.n, 0) AS all_followers
        FROM chained c
        LEFT JOIN present p
               ON p.kafka_topic = c.kafka_topic AND p.kafka_partition = c.kafka_partition
              AND p.row_hash = c.prev_hash
        LEFT JOIN heads h
               ON h.kafka_topic = c.kafka_topic AND h.kafka_partition = c.kafka_partition
        LEFT JOIN anchors r
               ON r.kafka_topic = c.kafka_topic AND r.kafka_partition = c.kafka_partition
              AND r.row_hash = c.prev_hash
        LEFT JOIN retired_followers f
               ON f.kafka_topic = c.kafka_topic AND f.kafka_partition = c.kafka_partition
              AND f.prev_key = coalesce(c.prev_hash, ''::bytea)
    )
    SELECT l.kafka_topic, l.kafka_partition, l.kafka_offset,
           CASE WHEN l.row_hash IS DISTINCT FROM l.expected_hash
                  THEN 'row edited: its hash does not match its contents'
                WHEN NOT l.has_head
                  THEN 'chain without a recorded head: the sink did not write it'
                WHEN l.all_followers > 1
                  THEN 'chain forked: another row follows the same row'
                WHEN l.after_head
                  THEN 'row after the chain head: the sink did not link it'
                ELSE 'chain broken: the row before it was deleted or edited'
           END
      FROM linked l
     WHERE l.row_hash IS DISTINCT FROM l.expected_hash
        OR NOT l.has_head
        OR l.all_followers > 1
        OR l.after_head
        OR (l.prev_hash IS NOT NULL AND NOT l.previous_found AND NOT l.previous_retired)
    UNION ALL
    SELECT h.kafka_topic, h.kafka_partition, h.kafka_offset,
           'last rows deleted: the recorded chain head is gone'
      FROM heads h
      LEFT JOIN present p
             ON p.kafka_topic = h.kafka_topic AND p.kafka_partition = h.kafka_partition
            AND p.row_hash = h.row_hash
      LEFT JOIN anchors r
             ON r.kafka_topic = h.kafka_topic AND r.kafka_partition = h.kafka_partition
            AND r.row_hash = h.row_hash
     WHERE p.row_hash IS NULL AND r.row_hash IS NULL
    UNION ALL
    -- a retired row that followed a row kept: that row (or one the retired row links to through
    -- an anchor) must still be here, even where no row kept links to it any more
    SELECT f.kafka_topic, f.kafka_partition, f.kafka_offset,
           'chain broken: the row a retired row followed was deleted or edited'
      FROM retired f
      LEFT JOIN present p
             ON p.kafka_topic = f.kafka_topic AND p.kafka_partition = f.kafka_partition
            AND p.row_hash = f.prev_hash
      LEFT JOIN anchors r
             ON r.kafka_topic = f.kafka_topic AND r.kafka_partition = f.kafka_partition
            AND r.row_hash = f.prev_hash
     WHERE f.follower AND f.prev_hash IS NOT NULL AND p.row_hash IS NULL AND r.row_hash IS NULL
    UNION ALL
    -- soma_audit_retire retires only partitions wholly before its cutoff
    SELECT r.kafka_topic, r.kafka_partition, r.kafka_offset,
           'anchor not before its cutoff: written by hand, not by soma_audit_retire'
      FROM retired r
     WHERE r.event_time >= r.retired_before
     ORDER BY 1, 2, 3
  $q$, audit_table, table_key,
     -- a table with no such column hashes as before, without a function call per row
     CASE WHEN cardinality(names) = 0 THEN $e$''$e$
          ELSE format('%I.soma_audit_columns_text(%L, %L, %s)', functions_schema, names, types,
                      vals) END,
     tables_schema);
END
$fn$;
