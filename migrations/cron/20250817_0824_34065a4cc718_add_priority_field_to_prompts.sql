-- strata: revision=34065a4cc718 revises=fc0bfa77ff5a
-- strata: message="add priority field to prompts"

-- Priority: 1=low, 2=medium, 3=high. NOT NULL needs a default for the rows
-- that already exist. SQLite (3.35+) drops an unindexed column in place.

-- strata: up
ALTER TABLE prompts ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;

-- strata: down
ALTER TABLE prompts DROP COLUMN priority;
