CREATE TABLE parent (id INTEGER PRIMARY KEY, label VARCHAR(50), amount BIGINT);
CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE,
    note TEXT
);
CREATE INDEX ix_child_parent ON child (parent_id);
