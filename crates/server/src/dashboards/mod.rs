//! Dashboards (DESIGN §9): their model and checks, the built-in templates, share
//! links, and widget data through the metrics service (widgets never send SQL).

pub mod cro;
pub mod data;
pub mod experiments;
pub mod model;
pub mod shares;
pub mod templates;
pub mod warm;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    db,
    error::{ApiError, ApiResult},
};
use model::{Dashboard, Widget};

/// The dashboard, or 404 when it does not exist or the transaction's role cannot see it.
pub async fn load(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> ApiResult<Dashboard> {
    db::dashboards::get(conn, org_id, id)
        .await?
        .ok_or(ApiError::NotFound("dashboard"))
}

/// The dashboard's widgets in layout order (widgets missing from the layout last).
pub async fn widgets_of(conn: &mut PgConnection, dashboard: &Dashboard) -> ApiResult<Vec<Widget>> {
    let mut widgets = db::dashboards::list_widgets(conn, dashboard.id).await?;
    dashboard.layout.arrange(&mut widgets);
    Ok(widgets)
}
