//! Dashboards, their layout, widgets and share links as stored and as the API
//! shows them. The checks a widget's query must pass live in `dashboards::model`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Dashboard {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub description: String,
    #[schema(value_type = Layout)]
    pub layout: sqlx::types::Json<Layout>,
    /// `private`, `workspace` or `public` (every member of the organization).
    #[schema(value_type = Visibility)]
    pub visibility: String,
    pub template: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who may see a dashboard.
pub const VISIBILITIES: &[&str] = &["private", "workspace", "public"];

/// The OpenAPI schema of a dashboard's visibility: one of [`VISIBILITIES`].
pub struct Visibility;

impl utoipa::PartialSchema for Visibility {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some("Who sees a dashboard"))
            .enum_values(Some(VISIBILITIES.iter().copied()))
            .into()
    }
}
impl ToSchema for Visibility {}

/// Seed 001's layout: 1, 2 or 3 columns, sections holding widget ids in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    #[schema(minimum = 1, maximum = 3)]
    pub columns: u8,
    #[schema(min_items = 1, max_items = 20)]
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Section {
    #[schema(min_length = 1, max_length = 40)]
    pub id: String,
    #[schema(max_length = 120)]
    pub title: String,
    #[serde(default)]
    pub widgets: Vec<Uuid>,
}

impl Layout {
    pub fn single(title: &str) -> Self {
        Self {
            columns: 2,
            sections: vec![Section {
                id: "main".into(),
                title: title.into(),
                widgets: vec![],
            }],
        }
    }

    pub fn check(&self) -> Result<(), ApiError> {
        if !(1..=3).contains(&self.columns) {
            return Err(ApiError::validation("layout.columns", "must be 1, 2 or 3"));
        }
        if self.sections.is_empty() || self.sections.len() > 20 {
            return Err(ApiError::validation(
                "layout.sections",
                "give between 1 and 20 sections",
            ));
        }
        let mut ids = std::collections::BTreeSet::new();
        for (i, section) in self.sections.iter().enumerate() {
            if section.id.is_empty() || section.id.chars().count() > 40 || !ids.insert(&section.id)
            {
                return Err(ApiError::validation(
                    format!("layout.sections[{i}].id"),
                    "must be unique, 1–40 characters",
                ));
            }
            if section.title.chars().count() > 120 {
                return Err(ApiError::validation(
                    format!("layout.sections[{i}].title"),
                    "at most 120 characters",
                ));
            }
        }
        Ok(())
    }

    /// Every widget id placed in the layout, in display order.
    pub fn widget_order(&self) -> Vec<Uuid> {
        self.sections
            .iter()
            .flat_map(|s| s.widgets.iter().copied())
            .collect()
    }

    /// Sorts widgets into display order; widgets missing from the layout go last,
    /// keeping their relative order.
    pub fn arrange(&self, widgets: &mut [Widget]) {
        let order = self.widget_order();
        widgets.sort_by_key(|w| {
            order
                .iter()
                .position(|id| *id == w.id)
                .unwrap_or(usize::MAX)
        });
    }
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Widget {
    pub id: Uuid,
    pub dashboard_id: Uuid,
    /// Seed 001's widget types.
    #[serde(rename = "type")]
    #[sqlx(rename = "type")]
    pub kind: String,
    pub title: String,
    #[schema(value_type = Object)]
    pub query_config: Value,
    #[schema(value_type = Object)]
    pub display_config: Value,
    /// `small`, `medium`, `large` or `full`.
    pub size: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// A read-only link to a dashboard; its token is shown once and stored hashed. (No doc
// comment: it would become the schema's description in the OpenAPI document.)
#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct Share {
    pub id: Uuid,
    pub dashboard_id: Uuid,
    /// Only these widgets are shown; `null` for all.
    pub widget_ids: Option<Vec<Uuid>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}
