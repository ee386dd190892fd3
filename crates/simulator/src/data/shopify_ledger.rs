//! Everything one simulated shop holds, as plain structs: the ground truth for
//! tests. Money is `i64` in minor units of the shop's currency (the GraphQL API
//! sends the same values as decimal strings in major units), times are unix
//! seconds, ids are the numeric part of Shopify's GIDs
//! (`gid://shopify/Order/{id}`).
//!
//! The `*_node` functions render the GraphQL node shapes the simulator answers.

use serde::Serialize;
use serde_json::{json, Value};

use super::{money::format_decimal, time::format_iso};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyLedger {
    /// `acme.myshopify.com`.
    pub shop: String,
    /// Upper-case ISO code, like Shopify's `CurrencyCode`.
    pub currency: String,
    /// Start of the generated history.
    pub start: i64,
    /// The data clock (see [`crate::StripeLedger::end`]).
    pub end: i64,
    pub products: Vec<ShopifyProduct>,
    /// Includes customers who only left an abandoned checkout (0 orders).
    pub customers: Vec<ShopifyCustomer>,
    /// In creation order (ids increase with it), test and cancelled orders included.
    pub orders: Vec<ShopifyOrder>,
    pub checkouts: Vec<ShopifyCheckout>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    Active,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Archived => "ARCHIVED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyProduct {
    pub id: u64,
    pub title: String,
    pub product_type: String,
    pub status: ProductStatus,
    /// Current unit price; an order line keeps the price it was sold at.
    pub price: i64,
    pub created_at: i64,
    /// Moves on price changes and archiving.
    pub updated_at: i64,
    /// When it stopped selling.
    pub archived_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyCustomer {
    pub id: u64,
    pub created_at: i64,
    /// Moves with each order, refund or edit of their orders.
    pub updated_at: i64,
    pub number_of_orders: u64,
    /// Σ over their orders of `total_price − total_refunded`.
    pub amount_spent: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyOrder {
    pub id: u64,
    /// `#1001`, `#1002`, … in creation order.
    pub name: String,
    pub created_at: i64,
    /// Moves on refunds, edits and cancellation.
    pub updated_at: i64,
    pub processed_at: i64,
    pub cancelled_at: Option<i64>,
    /// `CUSTOMER`, `INVENTORY`, `DECLINED` when cancelled.
    pub cancel_reason: Option<String>,
    /// Test orders: excluded from real revenue by convention.
    pub test: bool,
    /// `web`, `pos`, `shopify_draft_order`, `iphone`, `android`.
    pub source_name: String,
    /// `None` for guest checkouts.
    pub customer: Option<u64>,
    /// `None` for point-of-sale orders.
    pub shipping_country: Option<String>,
    pub discount_code: Option<String>,
    /// Discount in basis points of each line's original total.
    pub discount_basis_points: i64,
    /// Tax in basis points of the subtotal (charged on top).
    pub tax_basis_points: i64,
    pub lines: Vec<ShopifyLineItem>,
    /// Σ lines' `discounted_total` (after discounts, before shipping and tax).
    pub subtotal: i64,
    pub total_discounts: i64,
    pub total_tax: i64,
    pub total_shipping: i64,
    /// `subtotal + total_shipping + total_tax`.
    pub total_price: i64,
    /// Σ `refunds[].amount`.
    pub total_refunded: i64,
    pub refunds: Vec<ShopifyRefund>,
    pub edits: Vec<ShopifyOrderEdit>,
    /// The abandoned checkout this order recovered.
    pub checkout: Option<u64>,
}

impl ShopifyOrder {
    /// Revenue net of refunds.
    pub fn net(&self) -> i64 {
        self.total_price - self.total_refunded
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyLineItem {
    pub id: u64,
    pub product: u64,
    pub title: String,
    /// Ordered quantity after edits.
    pub quantity: u32,
    /// `quantity` minus units refunded (all of them on a full refund).
    pub current_quantity: u32,
    pub unit_price: i64,
    /// `unit_price × quantity` minus this line's share of the order discount.
    pub discounted_total: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyRefund {
    pub id: u64,
    pub created_at: i64,
    pub amount: i64,
    /// Whether it refunded everything that was left.
    pub full: bool,
}

/// One order edit: a line's quantity changed and the totals were recomputed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyOrderEdit {
    pub at: i64,
    pub line: u64,
    pub old_quantity: u32,
    pub new_quantity: u32,
    pub old_total_price: i64,
    pub new_total_price: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyCheckout {
    pub id: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set when the checkout was recovered into an order.
    pub completed_at: Option<i64>,
    pub total_price: i64,
    pub customer: Option<u64>,
    /// The order it became.
    pub order: Option<u64>,
}

/// `gid://shopify/{kind}/{id}`.
pub fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The numeric id of a GID of `kind` (or of a bare number).
pub fn parse_gid(kind: &str, text: &str) -> Option<u64> {
    let number = text
        .strip_prefix("gid://shopify/")
        .map(|rest| rest.strip_prefix(kind)?.strip_prefix('/'))
        .unwrap_or(Some(text))?;
    number.parse().ok()
}

impl ShopifyLedger {
    fn money(&self, minor: i64) -> Value {
        json!({ "amount": format_decimal(minor, &self.currency), "currencyCode": self.currency })
    }

    /// A `MoneyBag` with `shopMoney` only: the simulator has no presentment
    /// currencies.
    fn money_set(&self, minor: i64) -> Value {
        json!({ "shopMoney": self.money(minor) })
    }

    pub(crate) fn order_node(&self, o: &ShopifyOrder, customer: Option<&ShopifyCustomer>) -> Value {
        let lines: Vec<Value> = o
            .lines
            .iter()
            .map(|l| {
                json!({
                    "id": gid("LineItem", l.id),
                    "title": l.title,
                    "quantity": l.quantity,
                    "currentQuantity": l.current_quantity,
                    "product": { "id": gid("Product", l.product) },
                    "originalUnitPriceSet": self.money_set(l.unit_price),
                    "discountedTotalSet": self.money_set(l.discounted_total),
                })
            })
            .collect();
        let refunds: Vec<Value> = o
            .refunds
            .iter()
            .map(|r| {
                json!({
                    "id": gid("Refund", r.id),
                    "createdAt": format_iso(r.created_at),
                    "totalRefundedSet": self.money_set(r.amount),
                })
            })
            .collect();
        let financial = if o.total_refunded == 0 {
            "PAID"
        } else if o.total_refunded >= o.total_price {
            "REFUNDED"
        } else {
            "PARTIALLY_REFUNDED"
        };
        json!({
            "id": gid("Order", o.id),
            "name": o.name,
            "createdAt": format_iso(o.created_at),
            "updatedAt": format_iso(o.updated_at),
            "processedAt": format_iso(o.processed_at),
            "cancelledAt": o.cancelled_at.map(format_iso),
            "cancelReason": o.cancel_reason,
            "test": o.test,
            "sourceName": o.source_name,
            "currencyCode": self.currency,
            "presentmentCurrencyCode": self.currency,
            "displayFinancialStatus": financial,
            "discountCodes": o.discount_code.iter().collect::<Vec<_>>(),
            "customer": customer.map(|c| json!({
                "id": gid("Customer", c.id),
                "numberOfOrders": c.number_of_orders.to_string(),
            })),
            "shippingAddress": o.shipping_country.as_ref().map(|c| json!({ "countryCodeV2": c })),
            "subtotalPriceSet": self.money_set(o.subtotal),
            "totalPriceSet": self.money_set(o.total_price),
            "totalDiscountsSet": self.money_set(o.total_discounts),
            "totalTaxSet": self.money_set(o.total_tax),
            "totalShippingPriceSet": self.money_set(o.total_shipping),
            "totalRefundedSet": self.money_set(o.total_refunded),
            "lineItems": { "nodes": lines },
            "refunds": refunds,
        })
    }

    pub(crate) fn customer_node(&self, c: &ShopifyCustomer) -> Value {
        json!({
            "id": gid("Customer", c.id),
            "createdAt": format_iso(c.created_at),
            "updatedAt": format_iso(c.updated_at),
            "numberOfOrders": c.number_of_orders.to_string(),
            "amountSpent": self.money(c.amount_spent),
        })
    }

    pub(crate) fn product_node(&self, p: &ShopifyProduct) -> Value {
        json!({
            "id": gid("Product", p.id),
            "title": p.title,
            "createdAt": format_iso(p.created_at),
            "updatedAt": format_iso(p.updated_at),
            "productType": p.product_type,
            "status": p.status.as_str(),
        })
    }

    pub(crate) fn checkout_node(&self, c: &ShopifyCheckout) -> Value {
        json!({
            "id": gid("AbandonedCheckout", c.id),
            "createdAt": format_iso(c.created_at),
            "updatedAt": format_iso(c.updated_at),
            "completedAt": c.completed_at.map(format_iso),
            "totalPriceSet": self.money_set(c.total_price),
            "customer": c.customer.map(|id| json!({ "id": gid("Customer", id) })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gids_round_trip() {
        assert_eq!(gid("Order", 42), "gid://shopify/Order/42");
        assert_eq!(parse_gid("Order", "gid://shopify/Order/42"), Some(42));
        assert_eq!(parse_gid("Order", "42"), Some(42));
        assert_eq!(parse_gid("Order", "gid://shopify/Customer/42"), None);
        assert_eq!(parse_gid("Order", "gid://shopify/Order/x"), None);
    }
}
