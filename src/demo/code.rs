//! The demo's code: a small backend laid out beside the demo database as the seed report found
//! the real one — `session_id` still in a dozen files, `api/v1` beside `api/v2`, and an Alembic
//! versions folder with two heads of which only `c85140124625` is applied.

use std::path::Path;

/// Every file of the demo's code tree, relative to its root.
pub const FILES: &[(&str, &str)] = &[
    (".gitignore", "__pycache__/\n*.pyc\n.venv/\n"),
    ("backend/app/__init__.py", ""),
    (
        "backend/app/main.py",
        "from fastapi import FastAPI\nfrom app.api.v1 import router as v1_router\nfrom app.api.v2 import router as v2_router\n\napp = FastAPI()\napp.include_router(v1_router, prefix=\"/api/v1\")\napp.include_router(v2_router, prefix=\"/api/v2\")\n",
    ),
    (
        "backend/app/models/asset.py",
        "class Asset(Base):\n    __tablename__ = \"assets\"\n    id = Column(UUID, primary_key=True)\n    session_id = Column(UUID, index=True)  # legacy: moving to flow_id\n    master_flow_id = Column(UUID)\n    discovery_flow_id = Column(UUID)\n",
    ),
    (
        "backend/app/models/llm_usage.py",
        "class LLMUsageLog(Base):\n    __tablename__ = \"llm_usage_logs\"\n    session_id = Column(UUID)\n",
    ),
    (
        "backend/app/models/flow_deletion_audit.py",
        "class FlowDeletionAudit(Base):\n    __tablename__ = \"flow_deletion_audit\"\n    session_id = Column(UUID)\n",
    ),
    (
        "backend/app/api/v1/__init__.py",
        "from .discovery import router\n",
    ),
    (
        "backend/app/api/v1/discovery.py",
        "@router.get(\"/discovery/{session_id}\")\ndef get_discovery(session_id: UUID):\n    return service.for_session(session_id=session_id)\n",
    ),
    (
        "backend/app/api/v1/assets.py",
        "@router.get(\"/assets\")\ndef list_assets(session_id: UUID):\n    return Asset.query.filter_by(session_id=session_id)\n",
    ),
    (
        "backend/app/api/v2/__init__.py",
        "from .flows import router\n",
    ),
    (
        "backend/app/api/v2/flows.py",
        "@router.get(\"/flows/{flow_id}\")\ndef get_flow(flow_id: UUID):\n    return service.for_flow(flow_id=flow_id)\n",
    ),
    (
        "backend/app/api/v2/discovery.py",
        "@router.get(\"/discovery/{flow_id}\")\ndef get_discovery(flow_id: UUID, session_id: UUID | None = None):\n    # session_id still accepted for v1 clients\n    return service.for_flow(flow_id=flow_id)\n",
    ),
    (
        "backend/app/services/discovery_service.py",
        "def for_session(session_id):\n    flow = Flow.by_session(session_id)\n    return flow\n",
    ),
    (
        "backend/app/services/flow_service.py",
        "def migrate(session_id, flow_id):\n    log.info(\"moving %s to %s\", session_id, flow_id)\n",
    ),
    (
        "backend/app/services/import_service.py",
        "def import_rows(rows):\n    for row in rows:\n        row[\"master_flow_id\"] = row.pop(\"session_id\")\n",
    ),
    (
        "backend/app/agents/crew.py",
        "class DiscoveryCrew:\n    def run(self, session_id):\n        return self.flow(session_id)\n",
    ),
    (
        "backend/app/websocket/events.py",
        "async def on_update(session_id, payload):\n    await broadcast(session_id, payload)\n",
    ),
    (
        "backend/app/schemas/asset.py",
        "class AssetOut(BaseModel):\n    id: UUID\n    session_id: UUID | None\n    flow_id: UUID | None\n",
    ),
    (
        "backend/app/api/v1/__pycache__/discovery.cpython-312.pyc",
        "compiled leftovers: ignored",
    ),
    (
        "backend/alembic/versions/a1b2c3d4e5f6_create_assets.py",
        "\"\"\"create assets\n\nRevision ID: a1b2c3d4e5f6\nRevises:\n\"\"\"\nrevision = 'a1b2c3d4e5f6'\ndown_revision = None\n\ndef upgrade():\n    op.create_table('assets', sa.Column('session_id', UUID))\n",
    ),
    (
        "backend/alembic/versions/9a7b6c5d4e3f_add_master_flow.py",
        "\"\"\"add master flow\n\nRevision ID: 9a7b6c5d4e3f\nRevises: a1b2c3d4e5f6\n\"\"\"\nrevision = '9a7b6c5d4e3f'\ndown_revision = 'a1b2c3d4e5f6'\n",
    ),
    (
        "backend/alembic/versions/c85140124625_add_default_client_engagement_to_users.py",
        "\"\"\"add default client engagement to users\n\nRevision ID: c85140124625\nRevises: 9a7b6c5d4e3f\n\"\"\"\nrevision: str = 'c85140124625'\ndown_revision: Union[str, None] = '9a7b6c5d4e3f'\n",
    ),
    (
        "backend/alembic/versions/3b1f0c2d9e77_add_master_flow_columns.py",
        "\"\"\"add master flow coordination columns (never applied)\n\nRevision ID: 3b1f0c2d9e77\nRevises: 9a7b6c5d4e3f\n\"\"\"\nrevision: str = '3b1f0c2d9e77'\ndown_revision: Union[str, None] = '9a7b6c5d4e3f'\n",
    ),
];

/// Lays the tree out under `root` (created; it must not exist, as the demo never overwrites).
pub fn lay_out(root: &Path) -> std::io::Result<()> {
    if root.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} already exists; the demo never overwrites (remove it or choose another --db)",
                root.display()
            ),
        ));
    }
    for (path, text) in FILES {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(full, text)?;
    }
    Ok(())
}

/// Where the demo's code goes for a database at `db`: a folder beside it.
pub fn beside(db: &Path) -> std::path::PathBuf {
    let stem = db
        .file_stem()
        .map_or_else(|| "demo".into(), |s| s.to_string_lossy().into_owned());
    db.with_file_name(format!("{stem}-code"))
}
