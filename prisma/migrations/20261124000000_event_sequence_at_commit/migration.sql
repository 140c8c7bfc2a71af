-- Event sequences are handed out at commit instead of at insert.
--
-- Readers rely on sequences growing in commit order: a reader that has seen sequence N must
-- never later find a smaller one committed. Until now every writer took one advisory lock before
-- inserting its events and held it until its COMMIT, so the lock was held across round trips to
-- the application; under load all writers queued behind it. Now an event is inserted with a
-- provisional negative sequence (unique, never visible to another transaction), and a deferred
-- trigger gives it its real sequence while the transaction commits, inside the server: the lock
-- is held only for the commit itself.

CREATE SEQUENCE "OrderEvent_provisional_seq";

ALTER TABLE "OrderEvent" ALTER COLUMN "sequence" SET DEFAULT (- nextval('"OrderEvent_provisional_seq"'));

CREATE FUNCTION "OrderEvent_assign_sequence"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The same lock id the writers took before; held until the end of this commit.
  PERFORM pg_advisory_xact_lock(7260432);
  UPDATE "OrderEvent" SET "sequence" = nextval('"OrderEvent_sequence_seq"') WHERE "id" = NEW."id";
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER "OrderEvent_sequence_at_commit"
  AFTER INSERT ON "OrderEvent"
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "OrderEvent_assign_sequence"();
