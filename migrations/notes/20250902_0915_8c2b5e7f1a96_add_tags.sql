-- strata: revision=8c2b5e7f1a96 revises=3f9a0c1d7e42
-- strata: message="add tags"

-- Tags are their own key, so this SQL is the same for both databases.

-- strata: up
CREATE TABLE tags (
    name VARCHAR(64) PRIMARY KEY
);
CREATE TABLE note_tags (
    note_id BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    tag VARCHAR(64) NOT NULL REFERENCES tags (name) ON DELETE CASCADE,
    PRIMARY KEY (note_id, tag)
);
CREATE INDEX ix_note_tags_tag ON note_tags (tag);

-- strata: down
DROP TABLE note_tags;
DROP TABLE tags;
