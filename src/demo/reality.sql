-- The "current database reality" of the seed status report, as a schema any SQL database accepts.
-- remtrack demo loads it into SQLite; the tests load it into PostgreSQL. Try it yourself with
--   createdb remtrack_demo && psql -d remtrack_demo -f src/demo/reality.sql

-- Exists, but WITHOUT the master flow coordination columns.
CREATE TABLE crewai_flow_state_extensions (
    id UUID PRIMARY KEY,
    flow_id UUID NOT NULL,
    client_account_id UUID,
    engagement_id UUID,
    flow_type VARCHAR(50),
    flow_name VARCHAR(255),
    flow_status VARCHAR(50) DEFAULT 'initialized',
    flow_configuration JSONB DEFAULT '{}',
    flow_persistence_data JSONB DEFAULT '{}',
    created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMPTZ
);
CREATE INDEX ix_crewai_flow_state_extensions_flow_id ON crewai_flow_state_extensions (flow_id);

-- Has the multi-phase columns, and still session_id.
CREATE TABLE assets (
    id UUID PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    asset_type VARCHAR(50),
    master_flow_id UUID,
    discovery_flow_id UUID,
    assessment_flow_id UUID,
    planning_flow_id UUID,
    execution_flow_id UUID,
    session_id UUID,
    created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_assets_master_flow_id ON assets (master_flow_id);
CREATE INDEX ix_assets_session_id ON assets (session_id);

CREATE TABLE data_imports (
    id UUID PRIMARY KEY,
    import_name VARCHAR(255),
    master_flow_id UUID,
    status VARCHAR(50) DEFAULT 'pending',
    created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_data_imports_master_flow_id ON data_imports (master_flow_id);

CREATE TABLE raw_import_records (
    id UUID PRIMARY KEY,
    data_import_id UUID NOT NULL,
    master_flow_id UUID,
    raw_data JSONB DEFAULT '{}'
);

CREATE TABLE import_field_mappings (
    id UUID PRIMARY KEY,
    data_import_id UUID NOT NULL,
    master_flow_id UUID,
    source_field VARCHAR(255),
    target_field VARCHAR(255)
);

-- Legacy tables that were never dropped.
CREATE TABLE data_import_sessions (
    id UUID PRIMARY KEY,
    session_name VARCHAR(255),
    created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE discovery_assets (
    id UUID PRIMARY KEY,
    name VARCHAR(255),
    discovery_flow_id UUID,
    session_id UUID
);

-- Tables that still carry session_id.
CREATE TABLE llm_usage_logs (
    id UUID PRIMARY KEY,
    session_id UUID,
    model VARCHAR(100),
    total_tokens INTEGER DEFAULT 0,
    created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE flow_deletion_audit (
    id UUID PRIMARY KEY,
    flow_id UUID,
    session_id UUID,
    deleted_by VARCHAR(255),
    deleted_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    default_client_id UUID,
    default_engagement_id UUID
);

-- Alembic's record of the latest migration applied.
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL PRIMARY KEY
);
INSERT INTO alembic_version (version_num) VALUES ('c85140124625');

-- Rows: discovery_assets still holds data that has been copied to assets; the sessions table is empty.
INSERT INTO assets (id, name, asset_type, master_flow_id, discovery_flow_id, session_id) VALUES
    ('3f1c6f0e-0000-4000-8000-000000000001', 'billing-db', 'database', '9a6c0000-0000-4000-8000-0000000000f1', '9a6c0000-0000-4000-8000-0000000000d1', '5e550000-0000-4000-8000-000000000001'),
    ('3f1c6f0e-0000-4000-8000-000000000002', 'orders-api', 'application', '9a6c0000-0000-4000-8000-0000000000f1', '9a6c0000-0000-4000-8000-0000000000d1', '5e550000-0000-4000-8000-000000000001'),
    ('3f1c6f0e-0000-4000-8000-000000000003', 'web-frontend', 'application', '9a6c0000-0000-4000-8000-0000000000f1', '9a6c0000-0000-4000-8000-0000000000d1', NULL);
INSERT INTO discovery_assets (id, name, discovery_flow_id, session_id) VALUES
    ('3f1c6f0e-0000-4000-8000-000000000001', 'billing-db', '9a6c0000-0000-4000-8000-0000000000d1', '5e550000-0000-4000-8000-000000000001'),
    ('3f1c6f0e-0000-4000-8000-000000000002', 'orders-api', '9a6c0000-0000-4000-8000-0000000000d1', '5e550000-0000-4000-8000-000000000001'),
    ('3f1c6f0e-0000-4000-8000-000000000003', 'web-frontend', '9a6c0000-0000-4000-8000-0000000000d1', NULL);
INSERT INTO llm_usage_logs (id, session_id, model, total_tokens) VALUES
    ('7b000000-0000-4000-8000-000000000001', '5e550000-0000-4000-8000-000000000001', 'gpt-4o', 1200);
