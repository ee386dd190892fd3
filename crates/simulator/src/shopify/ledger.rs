//! Everything one simulated shop holds, as plain structs: the ground truth for
//! tests. Money is `i64` in minor units of the shop's currency (the GraphQL API
//! sends the same values as decimal strings in major units), times are unix
//! seconds, ids are the numeric part of Shopify's GIDs
//! (`gid://shopify/Order/{id}`).
//!
//! The `*_node` functions render the GraphQL node shapes the simulator answers.

use serde::Serialize;
use serde_json::{json, Value};

use crate::common::{money::format_decimal, time::format_iso};

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
    /// The catalogue, launched and archived ones included.
    pub products: Vec<ShopifyProduct>,
    /// Includes customers who only left an abandoned checkout (0 orders).
    pub customers: Vec<ShopifyCustomer>,
    /// In creation order (ids increase with it), test and cancelled orders included.
    pub orders: Vec<ShopifyOrder>,
    /// Abandoned checkouts, recovered ones included (`completed_at`).
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
    /// `gid://shopify/Product/{id}`.
    pub id: u64,
    /// Display title.
    pub title: String,
    /// `Apparel`, `Home`, `Accessories` or `Stationery`.
    pub product_type: String,
    /// Status now.
    pub status: ProductStatus,
    /// Current unit price; an order line keeps the price it was sold at.
    pub price: i64,
    /// Catalogue entry time (most predate `start`; some launch during the history).
    pub created_at: i64,
    /// Moves on price changes and archiving.
    pub updated_at: i64,
    /// When it stopped selling.
    pub archived_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyCustomer {
    /// `gid://shopify/Customer/{id}`.
    pub id: u64,
    /// First order or first checkout with contact details.
    pub created_at: i64,
    /// Moves with each order, refund or edit of their orders.
    pub updated_at: i64,
    /// Orders placed, cancelled and test ones included (Shopify's `numberOfOrders`).
    pub number_of_orders: u64,
    /// Σ over their orders of `total_price − total_refunded`.
    pub amount_spent: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyOrder {
    /// `gid://shopify/Order/{id}`; increases with creation.
    pub id: u64,
    /// `#1001`, `#1002`, … in creation order.
    pub name: String,
    /// When it was placed.
    pub created_at: i64,
    /// Moves on refunds, edits and cancellation.
    pub updated_at: i64,
    /// Equal to `created_at` in the simulator.
    pub processed_at: i64,
    /// Set for cancelled orders (which are also refunded in full).
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
    /// The code applied, if any (`BFCM25` on Black Friday–Cyber Monday).
    pub discount_code: Option<String>,
    /// Discount in basis points of each line's original total.
    pub discount_basis_points: i64,
    /// Tax in basis points of the subtotal (charged on top).
    pub tax_basis_points: i64,
    /// 1–4 lines, distinct products.
    pub lines: Vec<ShopifyLineItem>,
    /// Σ lines' `discounted_total` (after discounts, before shipping and tax).
    pub subtotal: i64,
    /// Σ lines' discounts.
    pub total_discounts: i64,
    /// `subtotal × tax_basis_points`, rounded half up.
    pub total_tax: i64,
    /// Flat rate by destination, free above a threshold and at the point of sale.
    pub total_shipping: i64,
    /// `subtotal + total_shipping + total_tax`.
    pub total_price: i64,
    /// Σ `refunds[].amount`.
    pub total_refunded: i64,
    /// Oldest first.
    pub refunds: Vec<ShopifyRefund>,
    /// Which of its customer's orders this is (1 for the first), counting every
    /// order the customer placed, test and cancelled ones too: Shopify's
    /// `customerJourneySummary.customerOrderIndex`. `None` for a guest checkout.
    pub customer_order_index: Option<u32>,
    /// Oldest first; totals above are after the last edit.
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
    /// `gid://shopify/LineItem/{id}`.
    pub id: u64,
    /// The product's numeric id.
    pub product: u64,
    /// The product title at sale time.
    pub title: String,
    /// Ordered quantity after edits.
    pub quantity: u32,
    /// `quantity` minus units refunded (all of them on a full refund).
    pub current_quantity: u32,
    /// The product price at sale time.
    pub unit_price: i64,
    /// `unit_price × quantity` minus this line's share of the order discount.
    pub discounted_total: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyRefund {
    /// `gid://shopify/Refund/{id}`.
    pub id: u64,
    /// When it was refunded.
    pub created_at: i64,
    /// Refunded amount (Shopify's `totalRefundedSet`): `returns + shipping + tax`.
    pub amount: i64,
    /// Whether it refunded everything that was left.
    pub full: bool,
    /// Merchandise given back, after its discounts, before tax: the
    /// `refundLineItems`' `subtotalSet` (Shopify's "returns").
    pub returns: i64,
    /// Shipping given back: `refundShippingLines`' `subtotalAmountSet`.
    pub shipping: i64,
    /// Tax given back: the `refundLineItems`' `totalTaxSet`.
    pub tax: i64,
    /// The line the returned merchandise is booked against (all lines, by their
    /// share, for a full refund): `(line id, quantity, subtotal, tax)`.
    pub lines: Vec<(u64, u32, i64, i64)>,
}

/// One order edit: a line's quantity changed and the totals were recomputed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyOrderEdit {
    /// When the edit happened (`updatedAt` moved there).
    pub at: i64,
    /// The edited line's numeric id.
    pub line: u64,
    /// Quantity before.
    pub old_quantity: u32,
    /// Quantity after (±1).
    pub new_quantity: u32,
    /// `total_price` before.
    pub old_total_price: i64,
    /// `total_price` after.
    pub new_total_price: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopifyCheckout {
    /// `gid://shopify/AbandonedCheckout/{id}`.
    pub id: u64,
    /// When it was abandoned.
    pub created_at: i64,
    /// Moves when it is recovered.
    pub updated_at: i64,
    /// Set when the checkout was recovered into an order.
    pub completed_at: Option<i64>,
    /// What the cart would have cost (no discount).
    pub total_price: i64,
    /// Known customer, if the shopper left contact details.
    pub customer: Option<u64>,
    /// Where it would have shipped.
    pub shipping_country: String,
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
    // Values are built with `json!` from scalars only and nested by moving
    // them in: `json!` deep-copies any `Value` expression through serde.

    fn money(&self, minor: i64) -> Value {
        json!({ "amount": format_decimal(minor, &self.currency), "currencyCode": self.currency })
    }

    /// A `MoneyBag` with `shopMoney` only: the simulator has no presentment
    /// currencies.
    fn money_set(&self, minor: i64) -> Value {
        json!({ "shopMoney": { "amount": format_decimal(minor, &self.currency), "currencyCode": self.currency } })
    }

    pub(crate) fn order_node(&self, o: &ShopifyOrder, customer: Option<&ShopifyCustomer>) -> Value {
        let lines: Vec<Value> = o
            .lines
            .iter()
            .map(|l| {
                let mut line = json!({
                    "id": gid("LineItem", l.id),
                    "title": l.title,
                    "quantity": l.quantity,
                    "currentQuantity": l.current_quantity,
                    "product": { "id": gid("Product", l.product) },
                });
                line["originalUnitPriceSet"] = self.money_set(l.unit_price);
                line["discountedTotalSet"] = self.money_set(l.discounted_total);
                line
            })
            .collect();
        let refunds: Vec<Value> = o
            .refunds
            .iter()
            .map(|r| {
                let mut refund = json!({
                    "id": gid("Refund", r.id),
                    "createdAt": format_iso(r.created_at),
                });
                refund["totalRefundedSet"] = self.money_set(r.amount);
                let lines: Vec<Value> = r
                    .lines
                    .iter()
                    .map(|(line, quantity, subtotal, tax)| {
                        let mut item = json!({
                            "quantity": quantity,
                            "lineItem": { "id": gid("LineItem", *line) },
                        });
                        item["subtotalSet"] = self.money_set(*subtotal);
                        item["totalTaxSet"] = self.money_set(*tax);
                        item
                    })
                    .collect();
                refund["refundLineItems"] = json!({ "nodes": lines });
                let shipping: Vec<Value> = (r.shipping != 0)
                    .then(|| {
                        let mut line = json!({});
                        line["subtotalAmountSet"] = self.money_set(r.shipping);
                        line["taxAmountSet"] = self.money_set(0);
                        line
                    })
                    .into_iter()
                    .collect();
                refund["refundShippingLines"] = json!({ "nodes": shipping });
                refund
            })
            .collect();
        let financial = if o.total_refunded == 0 {
            "PAID"
        } else if o.total_refunded >= o.total_price {
            "REFUNDED"
        } else {
            "PARTIALLY_REFUNDED"
        };
        let mut node = json!({
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
        });
        node["customer"] = customer.map_or(Value::Null, |c| {
            json!({ "id": gid("Customer", c.id), "numberOfOrders": c.number_of_orders.to_string() })
        });
        node["customerJourneySummary"] = o
            .customer_order_index
            .map_or(Value::Null, |index| json!({ "customerOrderIndex": index }));
        node["shippingAddress"] = o
            .shipping_country
            .as_ref()
            .map_or(Value::Null, |c| json!({ "countryCodeV2": c }));
        node["subtotalPriceSet"] = self.money_set(o.subtotal);
        node["totalPriceSet"] = self.money_set(o.total_price);
        node["totalDiscountsSet"] = self.money_set(o.total_discounts);
        node["totalTaxSet"] = self.money_set(o.total_tax);
        node["totalShippingPriceSet"] = self.money_set(o.total_shipping);
        node["totalRefundedSet"] = self.money_set(o.total_refunded);
        // Orders have at most four lines: one page, always complete.
        node["lineItems"] = json!({ "pageInfo": { "hasNextPage": false, "endCursor": null } });
        node["lineItems"]["nodes"] = Value::Array(lines);
        node["refunds"] = Value::Array(refunds);
        node
    }

    pub(crate) fn customer_node(&self, c: &ShopifyCustomer) -> Value {
        let mut node = json!({
            "id": gid("Customer", c.id),
            "createdAt": format_iso(c.created_at),
            "updatedAt": format_iso(c.updated_at),
            "numberOfOrders": c.number_of_orders.to_string(),
        });
        node["amountSpent"] = self.money(c.amount_spent);
        node
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
        let mut node = json!({
            "id": gid("AbandonedCheckout", c.id),
            "createdAt": format_iso(c.created_at),
            "updatedAt": format_iso(c.updated_at),
            "completedAt": c.completed_at.map(format_iso),
            "customer": c.customer.map(|id| json!({ "id": gid("Customer", id) })),
            "shippingAddress": { "countryCodeV2": c.shipping_country },
        });
        node["totalPriceSet"] = self.money_set(c.total_price);
        node
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
