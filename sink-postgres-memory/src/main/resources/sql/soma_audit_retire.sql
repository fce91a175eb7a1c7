-- soma_audit_retire(audit_table, before): retires the old rows of an audit table written by
-- soma-connect's PostgreSQL sink (write.mode=audit) so that soma_audit_verify still checks the
-- rows left. Dropping a monthly partition by hand would leave the first remaining row of every
-- chain linked to a row that is gone, reported as "chain broken" for ever.
--
-- It drops the partitions wholly before `before`: a monthly partition whose upper bound is at or
-- before it, and the default partition only when every row it holds is before it (it is then
-- replaced by an empty one, so events outside the monthly partitions are still accepted; otherwise
-- it is kept whole, older rows and all, and listed with retired = false). It never deletes a row
-- from a partition it keeps. Before dropping anything it runs soma_audit_verify on the whole table
-- and refuses if that reports anything: retiring would take away the evidence. For each link the
-- drop cuts it records the retired row in soma_audit_retired (table, topic, partition, offset,
-- row_hash, prev_hash, event_time, the cutoff and the partitions retired, who and when): as an
-- anchor where a row kept links to it or a chain head is it, as a follower where it linked to a
-- row kept or started its chain (late events around the cutoff make both). soma_audit_verify
-- accepts a row linked to a live anchor, and a head that is one; a link to any other row that is
-- gone is still "chain broken". It counts a live follower as a row following the row it links to
-- (so a row forged beside it forks the chain) and reports one whose row is gone. A record that is
-- neither any more (the rows linked to it, or the row it followed, retired since) is marked
-- superseded_at and kept as a record; it no longer excuses anything. A partition attached by hand
-- that is partitioned itself is retired with its leaves.
--
-- An operator's action, never the connector's: the sink installs this function (so it stays in
-- step with soma_audit_verify), but the function refuses the role that installed it, the sink's
-- own, and EXECUTE is revoked from PUBLIC. Call it as another role that may drop the table's
-- partitions (a member of the role owning the table), in a READ COMMITTED transaction of its own.
-- It runs as its caller (SECURITY INVOKER) and is owned by the sink's role, which can replace it:
-- the operator's role should hold no more than it needs here, never a superuser's.
--
-- Locks: the sink's advisory lock on the table's name (as SchemaManager takes it), then the table
-- and all its partitions in ACCESS EXCLUSIVE mode, both in the sink's order and held to the end of
-- the transaction; the sink's batches on that table wait meanwhile (the whole verify), and no
-- snapshot older than the lock is used, so a row written just before is verified and anchored.
-- Returns one row per partition retired (and the default partition when kept with rows before the
-- cutoff); no rows when nothing is wholly before the cutoff, in which case nothing changed.
-- Usage: SELECT * FROM soma_audit_retire('public.audit_events', '2025-01-01');
CREATE OR REPLACE FUNCTION soma_audit_retire(audit_table regclass, before timestamptz)
RETURNS TABLE (partition_name text, row_count bigint, retired boolean)
LANGUAGE plpgsql VOLATILE
-- partition bounds print in UTC and ISO, and are read back alike, whatever the caller's session
-- uses (under DateStyle 'German, MDY' a bound printed 01.10.2026 would read as January 10th)
SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD'
-- hash joins whatever the statistics say, as in soma_audit_verify (neither a nested loop nor a
-- merge join on the topic and partition alone)
SET enable_nestloop = off SET enable_mergejoin = off
-- nothing resolved through a path another role may create in, as in soma_audit_verify; the
-- installer fills in the constants below as it does there
SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  sink_search_path constant text := '@sink_search_path@';
  tables_schema constant text := '@tables_schema@';
  functions_schema constant text := '@functions_schema@';
  -- the heads and anchors name their table as regclass prints it under the sink's search_path
  table_key text;
  partition_key text;
  installer text;
  sink_lock text;
  problems bigint;
  gone oid[] := '{}';
  gone_leaves oid[] := '{}';
  gone_names text[] := '{}';
  new_default text;
  p record;
  total bigint;
  older bigint;
BEGIN
  PERFORM pg_catalog.set_config('search_path', sink_search_path, true);
  table_key := audit_table::text;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  SELECT pg_get_userbyid(f.proowner) INTO installer
    FROM pg_proc f
   WHERE f.oid = format('%I.soma_audit_retire(regclass, timestamptz)',
                        functions_schema)::regprocedure;
  IF installer IN (current_user, session_user) THEN
    RAISE EXCEPTION 'soma_audit_retire refuses role %: it installed this function, so it is the'
      ' audit sink''s role, and the sink never retires audit rows', installer
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Call it as an operator''s role that is a member of the role owning the table.';
  END IF;
  IF before IS NULL OR before > now() THEN
    RAISE EXCEPTION 'soma_audit_retire: the cutoff must be a time not after now, not %', before
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    -- a snapshot taken before the lock would miss rows the sink committed meanwhile
    RAISE EXCEPTION 'soma_audit_retire needs a READ COMMITTED transaction, not %',
      current_setting('transaction_isolation') USING ERRCODE = 'invalid_transaction_state';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table t
                   JOIN pg_attribute a ON a.attrelid = t.partrelid AND a.attnum = t.partattrs[0]
                  WHERE t.partrelid = audit_table AND t.partstrat = 'r' AND t.partnatts = 1
                    AND a.attname = 'event_time') THEN
    RAISE EXCEPTION 'soma_audit_retire: % is not an audit table (range-partitioned on event_time)',
      table_key USING ERRCODE = 'wrong_object_type';
  END IF;

  -- the sink's lock order: SchemaManager's advisory lock on the name as it spells it, then the
  -- table. All at once: DROP needs ACCESS EXCLUSIVE, and a weaker lock raised later could
  -- deadlock with a batch that read the table and then writes it
  SELECT format('"%s"."%s"', replace(n.nspname, '"', '""'), replace(c.relname, '"', '""'))
    INTO sink_lock
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = audit_table;
  PERFORM pg_advisory_xact_lock(hashtext(sink_lock));
  EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', audit_table);

  FOR p IN
    SELECT c.oid, pg_get_expr(c.relpartbound, c.oid) AS bound,
           format('%I.%I', n.nspname, c.relname) AS qualified
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE i.inhparent = audit_table
     ORDER BY c.relname
  LOOP
    -- partitions are named as the sink's session names them, as the table is
    PERFORM pg_catalog.set_config('search_path', sink_search_path, true);
    partition_key := p.oid::regclass::text;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF p.bound = 'DEFAULT' THEN
      EXECUTE format('SELECT count(*), count(*) FILTER (WHERE event_time < $1) FROM %s',
                     p.oid::regclass) USING before INTO total, older;
      IF total > 0 AND older = total THEN
        gone := gone || p.oid;
        gone_names := gone_names || partition_key;
        new_default := p.qualified;
        partition_name := partition_key; row_count := total; retired := true;
        RETURN NEXT;
      ELSIF older > 0 THEN
        -- it holds later rows too: kept whole, rather than rows deleted from a partition kept
        partition_name := partition_key; row_count := older; retired := false;
        RETURN NEXT;
      END IF;
    -- FOR VALUES FROM (...) TO ('2025-02-01 00:00:00+00'); TO (MAXVALUE) is never before
    ELSIF substring(p.bound FROM 'TO \(''([^'']+)''\)')::timestamptz <= before THEN
      EXECUTE format('SELECT count(*) FROM %s', p.oid::regclass) INTO total;
      gone := gone || p.oid;
      gone_names := gone_names || partition_key;
      partition_name := partition_key; row_count := total; retired := true;
      RETURN NEXT;
    END IF;
  END LOOP;
  IF cardinality(gone) = 0 THEN
    RETURN;
  END IF;
  -- a partition attached by hand may be partitioned itself: its rows are in its leaves, and the
  -- anchors must be taken from those
  SELECT coalesce(array_agg(t.relid), '{}') INTO gone_leaves
    FROM unnest(gone) AS g(oid), pg_partition_tree(g.oid) AS t
   WHERE t.isleaf;

  EXECUTE format('SELECT count(*) FROM %I.soma_audit_verify($1)', functions_schema)
    USING audit_table INTO problems;
  IF problems > 0 THEN
    RAISE EXCEPTION 'soma_audit_retire: % does not verify (% problem(s)); nothing retired, as'
      ' retiring would take away the evidence', table_key, problems
      USING ERRCODE = 'data_corrupted',
            HINT = format('SELECT * FROM soma_audit_verify(%L) lists them.', table_key);
  END IF;

  EXECUTE format($q$
    WITH kept AS (
      SELECT a.kafka_topic, a.kafka_partition, a.prev_hash, a.row_hash
        FROM %1$s a
       WHERE a.tableoid <> ALL ($1)
    ),
    kept_hashes AS (SELECT DISTINCT kafka_topic, kafka_partition, row_hash FROM kept),
    -- the rows that kept rows link to, and the heads, where no kept row is that row: retired now,
    -- or anchored by an earlier retirement
    cut AS (
      SELECT DISTINCT l.kafka_topic, l.kafka_partition, l.row_hash
        FROM (SELECT k.kafka_topic, k.kafka_partition, k.prev_hash AS row_hash
                FROM kept k WHERE k.prev_hash IS NOT NULL
              UNION
              SELECT h.kafka_topic, h.kafka_partition, h.row_hash
                FROM %2$I.soma_audit_chain_heads h WHERE h.table_name = $2) l
        LEFT JOIN kept_hashes k
               ON k.kafka_topic = l.kafka_topic AND k.kafka_partition = l.kafka_partition
              AND k.row_hash = l.row_hash
       WHERE k.row_hash IS NULL
    ),
    -- what each earlier record still is: an anchor while a kept row (or the head) links to it, a
    -- follower while the row it followed is kept (or it started its chain); neither: superseded,
    -- left excusing nothing
    roles AS (
      SELECT r.kafka_topic, r.kafka_partition, r.row_hash, c.row_hash IS NOT NULL AS anchor,
             r.follower AND (r.prev_hash IS NULL OR k.row_hash IS NOT NULL) AS follower
        FROM %2$I.soma_audit_retired r
        LEFT JOIN cut c
               ON c.kafka_topic = r.kafka_topic AND c.kafka_partition = r.kafka_partition
              AND c.row_hash = r.row_hash
        LEFT JOIN kept_hashes k
               ON k.kafka_topic = r.kafka_topic AND k.kafka_partition = r.kafka_partition
              AND k.row_hash = r.prev_hash
       WHERE r.table_name = $2 AND r.superseded_at IS NULL
    ),
    refreshed AS (
      UPDATE %2$I.soma_audit_retired r
         SET anchor = o.anchor, follower = o.follower,
             superseded_at = CASE WHEN o.anchor OR o.follower THEN NULL ELSE now() END
        FROM roles o
       WHERE r.table_name = $2 AND r.superseded_at IS NULL
         AND r.kafka_topic = o.kafka_topic AND r.kafka_partition = o.kafka_partition
         AND r.row_hash = o.row_hash
         AND (r.anchor, r.follower) IS DISTINCT FROM (o.anchor, o.follower)
    )
    -- the rows retired now that kept rows (or heads) link to, and those that followed a kept row
    -- or started their chain: without the latter, the kept row they followed could be deleted,
    -- or a row forged after it, with nothing left to show it
    INSERT INTO %2$I.soma_audit_retired (table_name, kafka_topic, kafka_partition, kafka_offset,
                                    row_hash, event_time, retired_before, retired_partitions,
                                    prev_hash, anchor, follower)
    SELECT $2, g.kafka_topic, g.kafka_partition, g.kafka_offset, g.row_hash, g.event_time, $3, $4,
           g.prev_hash, c.row_hash IS NOT NULL, g.prev_hash IS NULL OR k.row_hash IS NOT NULL
      FROM %1$s g
      LEFT JOIN cut c ON c.kafka_topic = g.kafka_topic AND c.kafka_partition = g.kafka_partition
                     AND c.row_hash = g.row_hash
      LEFT JOIN kept_hashes k
             ON k.kafka_topic = g.kafka_topic AND k.kafka_partition = g.kafka_partition
            AND k.row_hash = g.prev_hash
     WHERE g.tableoid = ANY ($1)
       AND (c.row_hash IS NOT NULL OR g.prev_hash IS NULL OR k.row_hash IS NOT NULL)
  $q$, audit_table, tables_schema) USING gone_leaves, table_key, before, gone_names;

  FOR i IN 1 .. cardinality(gone) LOOP
    EXECUTE format('DROP TABLE %s', gone[i]::regclass);
  END LOOP;
  IF new_default IS NOT NULL THEN
    -- owned as the rest, by the table's owner: the sink reads it by name when it adds a month
    EXECUTE format('CREATE TABLE %s PARTITION OF %s DEFAULT', new_default, audit_table);
    -- the sink's setup probes it by event time for a month's rows before making the month's
    -- partition; made here while the partition is empty, it costs nothing
    EXECUTE format('CREATE INDEX ON %s (event_time)', new_default);
    EXECUTE format('ALTER TABLE %s OWNER TO %I', new_default,
                   (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = audit_table));
  END IF;
END
$fn$;

REVOKE ALL ON FUNCTION soma_audit_retire(regclass, timestamptz) FROM PUBLIC;
