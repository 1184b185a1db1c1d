-- SQLite twin of the PostgreSQL migration.
-- Confidence allocation: the buckets (of 1,000,000) each allocated segment holds, as the
-- 125,000-byte LSB-first bitset the resolver reads. No row = all buckets for a segment that is
-- OK, ALLOCATED or ARCHIVED (segments of other dialects have proportion 1); see
-- core/store/allocation.py. Kept apart from `segments` so listings never read the blobs.
CREATE TABLE segment_bitsets (
    tenant      TEXT NOT NULL,
    segment_id  TEXT NOT NULL,
    bitset      BLOB NOT NULL,
    CONSTRAINT segment_bitsets_pkey PRIMARY KEY (tenant, segment_id),
    CONSTRAINT segment_bitsets_segment_fkey FOREIGN KEY (tenant, segment_id)
        REFERENCES segments (tenant, id) ON DELETE CASCADE
);

-- Rivals of an allocation are the tenant's ALLOCATED segments.
CREATE INDEX segments_by_state ON segments (tenant, state);
