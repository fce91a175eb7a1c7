-- soma-connect source-outbox: the outbox table, as PostgresOutboxSourceConnector expects it.
--
-- Seed 002's outbox(id, topic, payload, dedupe_key, created_at, published_at) plus:
--   txid     xid8 DEFAULT pg_current_xact_id(): the inserting transaction's 64-bit id. The relay
--            hands out only rows whose txid is below pg_snapshot_xmin(pg_current_snapshot()) (every
--            transaction below it has ended), in (txid, id) order. That is what makes a row whose
--            transaction commits late — after rows with higher ids were relayed — impossible to
--            lose. Never set it yourself; the default does it. (A column default is used, not the
--            row's xmin: xmin is a 32-bit xid that wraps, and belongs to a subtransaction when the
--            insert runs under a SAVEPOINT.)
--            The triggers outbox_txid and outbox_requeue keep it true: an insert that brings its
--            own txid (a dead letter inserted again whole, a copied row) and an update that makes
--            a published or flagged row unpublished again (published_at or error set back to NULL)
--            get the id of their own transaction. Otherwise such a row would sit behind the relay's
--            position: never relayed, and deleted or marked by the relay's next delete/mark.
--   headers  jsonb object, optional: its fields become Kafka record headers.
--   error    text: the reason a bad row was flagged (bad.row.action=flag).
--   key      text, optional, not created here: add it and set column.key=key to key records by
--            it (e.g. an aggregate id) instead of by dedupe_key.
-- created_at defaults to clock_timestamp() (the insert time, not the transaction start) so the
-- pickup-latency and backlog-age metrics measure what they say.
--
-- The partial index serves the relay query, the pending check, the backlog metric and the
-- delete/mark statement; published (or deleted) rows leave it.
-- The statement-level trigger sends one NOTIFY per inserting statement on channel soma_outbox
-- (config notify.channel); the connector LISTENs and reads at once. Without the trigger it polls
-- every poll.interval.ms.
-- Both trigger functions run as whoever writes to the outbox, so they run with search_path fixed to
-- pg_catalog, pg_temp: with the writer's, a role that may create objects in a schema of that path
-- (public, up to PostgreSQL 14) could shadow what they call (an operator ||(name, name)) and run
-- its code as every writer (CVE-2018-1058). Functions made by a version before 2026-12-07 lack it:
-- run this file again, or ALTER FUNCTION "public"."soma_outbox_txid"() SET search_path =
-- pg_catalog, pg_temp (and the same for "public"."soma_outbox_notify"()).
-- dlq is seed 002's dead-letter table: bad rows are moved there as jsonb with the reason (a json
-- column, not jsonb, as a JSON string of its text: parsed, it would lose duplicate keys, or fail).
--
-- Every statement is idempotent; run it as is for the default names (the connector runs the same
-- statements with the configured names when outbox.table.create=true). On an existing seed table
-- the ALTERs add the missing columns: adding txid rewrites the table (volatile default) and gives
-- existing rows the id of that transaction, so they are relayed first, in id order.

CREATE TABLE IF NOT EXISTS "public"."outbox" (
  "id" bigserial PRIMARY KEY,
  "topic" text,
  "payload" jsonb,
  "dedupe_key" text,
  "headers" jsonb,
  "created_at" timestamptz NOT NULL DEFAULT clock_timestamp(),
  "published_at" timestamptz,
  "error" text,
  "txid" xid8 NOT NULL DEFAULT pg_current_xact_id()
);

ALTER TABLE "public"."outbox" ADD COLUMN IF NOT EXISTS "txid" xid8 NOT NULL DEFAULT pg_current_xact_id();

ALTER TABLE "public"."outbox" ADD COLUMN IF NOT EXISTS "published_at" timestamptz;

ALTER TABLE "public"."outbox" ADD COLUMN IF NOT EXISTS "error" text;

CREATE INDEX IF NOT EXISTS "outbox_relay_idx" ON "public"."outbox" ("txid", "id") WHERE "published_at" IS NULL;

CREATE OR REPLACE FUNCTION "public"."soma_outbox_txid"() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], pg_current_xact_id()));
  RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER "outbox_txid" BEFORE INSERT ON "public"."outbox" FOR EACH ROW WHEN (NEW."txid" IS DISTINCT FROM pg_current_xact_id()) EXECUTE FUNCTION "public"."soma_outbox_txid"('txid');

CREATE OR REPLACE TRIGGER "outbox_requeue" BEFORE UPDATE OF "published_at", "error" ON "public"."outbox" FOR EACH ROW WHEN (NEW."published_at" IS NULL AND NEW."error" IS NULL AND (OLD."published_at" IS NOT NULL OR OLD."error" IS NOT NULL)) EXECUTE FUNCTION "public"."soma_outbox_txid"('txid');

CREATE OR REPLACE FUNCTION "public"."soma_outbox_notify"() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER "outbox_notify" AFTER INSERT ON "public"."outbox" FOR EACH STATEMENT EXECUTE FUNCTION "public"."soma_outbox_notify"('soma_outbox');

CREATE TABLE IF NOT EXISTS "public"."dlq" (
  "id" bigserial PRIMARY KEY,
  "topic" text,
  "event" jsonb NOT NULL,
  "error" text NOT NULL,
  "created_at" timestamptz NOT NULL DEFAULT now()
);
