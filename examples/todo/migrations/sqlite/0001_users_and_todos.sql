-- Who has logged in, and their todos. The limits repeat the ones the views check, so
-- that no other writer can store what the views would refuse.
CREATE TABLE users (
    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
    last_login BIGINT
);

CREATE TABLE todos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- SQLite has no boolean type: 0 or 1.
    done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    UNIQUE (owner, title)
);
