-- strata: revision=a1
-- strata: message="parents and children"

-- strata: up
CREATE TABLE parent (id INTEGER PRIMARY KEY, label VARCHAR(50), amount INTEGER);
CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE,
    note TEXT
);
CREATE INDEX ix_child_parent ON child (parent_id);
INSERT INTO parent (id, label, amount) VALUES (1, 'a', 10), (2, 'b', 20);
INSERT INTO child (id, parent_id, note) VALUES (1, 1, 'x'), (2, 1, 'y'), (3, 2, 'z');

-- strata: down
DROP TABLE child;
DROP TABLE parent;
