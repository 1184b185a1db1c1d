-- SQLite twin of the PostgreSQL migration (its TEXT already compares in byte order, so
-- descriptions need no collation change here).
-- OAuth clients (Adobe IMS client credentials): a client id and a hashed secret registered with
-- one token, whose identity the client's access tokens carry. Revoking the token removes the
-- client and its access tokens.
CREATE TABLE clients (
    client_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL REFERENCES tokens (hash) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT clients_pkey PRIMARY KEY (client_id)
);

CREATE INDEX clients_by_token ON clients (token_hash);

-- Access tokens issued by POST /ims/token/v3, by hash, valid until expires_at (µs).
CREATE TABLE access_tokens (
    hash        TEXT NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    CONSTRAINT access_tokens_pkey PRIMARY KEY (hash)
);

CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);
CREATE INDEX access_tokens_by_client ON access_tokens (client_id);
