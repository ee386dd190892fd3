-- A rollup refresh claims a store's dirty days in a short transaction of its own
-- (`claim`, `claimed_at`) and deletes them when its recomputation commits, instead of
-- holding them deleted-but-uncommitted for the whole recomputation: a sync page or
-- a webhook marking the same day again no longer waits for the refresh to finish.
-- A day marked again while claimed is `dirty_again`, and stays for the next pass.
-- A claim older than ten minutes (its refresh died) can be taken again.
ALTER TABLE rollup_dirty_days
    ADD COLUMN claimed_at timestamptz,
    ADD COLUMN claim uuid,
    ADD COLUMN dirty_again boolean NOT NULL DEFAULT false;
