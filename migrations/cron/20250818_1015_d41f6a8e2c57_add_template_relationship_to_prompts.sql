-- strata: revision=d41f6a8e2c57 revises=b7e2c4a19f03
-- strata: message="add template relationship to prompts"
-- strata: foreign_keys=off

-- prompts.template_id -> job_templates.id, nullable: a prompt may have no
-- template, and deleting a template keeps its prompts.
--
-- PostgreSQL adds the column and its constraint in place. SQLite cannot add a
-- foreign key to an existing table (nor drop a column that has one), so both
-- directions rebuild prompts: create the new table, copy, drop the old one,
-- rename, recreate its indexes. In that order: renaming the old table away
-- first would make scheduled_jobs reference the renamed table. foreign_keys=off
-- (above) turns enforcement off around the migration, so dropping prompts does
-- not cascade into scheduled_jobs; PRAGMA foreign_key_check runs before commit.

-- strata: up dialect=postgresql
ALTER TABLE prompts ADD COLUMN template_id INTEGER
    CONSTRAINT fk_prompts_template_id REFERENCES job_templates (id) ON DELETE SET NULL;
CREATE INDEX ix_prompts_template_id ON prompts (template_id);

-- strata: down dialect=postgresql
DROP INDEX ix_prompts_template_id;
ALTER TABLE prompts DROP COLUMN template_id;

-- strata: up dialect=sqlite
CREATE TABLE prompts_new (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    prompt_text TEXT NOT NULL,
    model VARCHAR(50) NOT NULL DEFAULT 'haiku',
    persona VARCHAR(50) NOT NULL DEFAULT 'basic_agent',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    priority INTEGER NOT NULL DEFAULT 1,
    template_id INTEGER
        CONSTRAINT fk_prompts_template_id REFERENCES job_templates (id) ON DELETE SET NULL
);
INSERT INTO prompts_new (id, name, description, prompt_text, model, persona, created_at,
                         updated_at, priority)
    SELECT id, name, description, prompt_text, model, persona, created_at, updated_at, priority
    FROM prompts;
DROP TABLE prompts;
ALTER TABLE prompts_new RENAME TO prompts;
CREATE INDEX ix_prompts_name ON prompts (name);
CREATE INDEX ix_prompts_template_id ON prompts (template_id);

-- strata: down dialect=sqlite
CREATE TABLE prompts_new (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    prompt_text TEXT NOT NULL,
    model VARCHAR(50) NOT NULL DEFAULT 'haiku',
    persona VARCHAR(50) NOT NULL DEFAULT 'basic_agent',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    priority INTEGER NOT NULL DEFAULT 1
);
INSERT INTO prompts_new (id, name, description, prompt_text, model, persona, created_at,
                         updated_at, priority)
    SELECT id, name, description, prompt_text, model, persona, created_at, updated_at, priority
    FROM prompts;
DROP TABLE prompts;
ALTER TABLE prompts_new RENAME TO prompts;
CREATE INDEX ix_prompts_name ON prompts (name);
