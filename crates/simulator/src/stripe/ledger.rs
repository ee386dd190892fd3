//! Everything the simulated Stripe account holds, as plain structs: the ground
//! truth a test computes expected metrics from, independently of the sync code.
//! Money is `i64` in minor units of `currency`, times are unix seconds.
//!
//! The `*_json` functions render Stripe's documented object shapes from these
//! structs; both the list endpoints and event snapshots use them.

use serde::Serialize;
use serde_json::{json, Value};

/// The whole simulated Stripe account. Vectors are in generation order, which
/// is `created` order (ties in no particular order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripeLedger {
    /// The connected account (`acct_…`), from `StripeSimConfig::account_id`.
    pub account_id: String,
    /// Lower-case ISO code, like Stripe sends.
    pub currency: String,
    /// Copied into every object's `livemode`.
    pub livemode: bool,
    /// Start of the generated history.
    pub start: i64,
    /// The data clock: nothing exists at or after it except what the handle's
    /// mutations created at exactly this time.
    pub end: i64,
    /// The price catalogue (created before `start`).
    pub prices: Vec<StripePrice>,
    /// The coupons subscribers sign up with (created before `start`).
    pub coupons: Vec<StripeCoupon>,
    /// Every customer, in signup order.
    pub customers: Vec<StripeCustomer>,
    /// Every subscription, canceled ones included.
    pub subscriptions: Vec<StripeSubscription>,
    /// Every subscription invoice (one per billing period).
    pub invoices: Vec<StripeInvoice>,
    /// Every charge attempt, failed ones included.
    pub charges: Vec<StripeCharge>,
    /// Every refund, generated and made through the handle.
    pub refunds: Vec<StripeRefund>,
    /// Only the events Stripe still retains: created within the 30 days before `end`.
    pub events: Vec<StripeEvent>,
}

/// Billing interval unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// Months in `count` intervals.
    pub fn months(self, count: u32) -> u32 {
        match self {
            Self::Month => count,
            Self::Year => 12 * count,
        }
    }
}

/// A recurring price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripePrice {
    /// `price_…`, fixed across seeds: the catalogue is part of the business.
    pub id: String,
    /// `prod_…`: prices of the same product are the same plan at different terms.
    pub product: String,
    /// Display name ("Pro monthly").
    pub nickname: String,
    /// Per seat, per `interval_count` × `interval`.
    pub unit_amount: i64,
    /// The account currency.
    pub currency: String,
    /// Billing interval unit.
    pub interval: Interval,
    /// Intervals per period (3 months for quarterly).
    pub interval_count: u32,
    /// Before `start`: the catalogue predates the history.
    pub created: i64,
}

impl StripePrice {
    /// Monthly recurring revenue of one seat, rounded down to a minor unit.
    pub fn monthly_amount(&self) -> i64 {
        self.unit_amount / i64::from(self.interval.months(self.interval_count))
    }
}

/// How long a coupon keeps discounting a subscription's invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponDuration {
    /// The first invoice only.
    Once,
    /// Invoices created in the first `n` months after it was applied: on a quarterly
    /// or yearly plan it can end in the middle of a period the last discounted
    /// invoice already covers.
    Repeating(u32),
    Forever,
}

/// A coupon: a percentage or an amount off an invoice's subtotal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripeCoupon {
    /// The code people type (`LAUNCH20`), which Stripe uses as the id.
    pub id: String,
    pub name: String,
    /// Whole percent off, or
    pub percent_off: Option<i64>,
    /// an amount off (minor units of the account currency), at most the subtotal.
    pub amount_off: Option<i64>,
    pub duration: CouponDuration,
    /// Before `start`.
    pub created: i64,
}

impl StripeCoupon {
    /// What it takes off an invoice of `subtotal`: a percentage rounded half up to
    /// the minor unit, or its amount (never more than the subtotal).
    pub fn discount_of(&self, subtotal: i64) -> i64 {
        match (self.percent_off, self.amount_off) {
            (Some(percent), _) => (subtotal * percent + 50) / 100,
            (None, Some(amount)) => amount.min(subtotal),
            (None, None) => 0,
        }
    }
}

/// A coupon applied to a subscription (Stripe's `discount` object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionDiscount {
    /// `di_…`.
    pub id: String,
    /// The coupon's id.
    pub coupon: String,
    /// When it was applied (the subscription's creation).
    pub start: i64,
    /// When a repeating coupon stops applying to new invoices; `None` for once and forever.
    pub end: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripeCustomer {
    /// `cus_…`.
    pub id: String,
    /// Signup time: `customer.created` and the new-customer count.
    pub created: i64,
    /// Unique per customer (`first.last{n}@example.com`).
    pub email: String,
    /// Display name.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// In its free trial: invoiced $0, not yet paying.
    Trialing,
    Active,
    /// The latest renewal invoice is unpaid and being retried.
    PastDue,
    Canceled,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
        }
    }
}

/// A subscription with one item (one price × quantity seats at a time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripeSubscription {
    /// `sub_…`.
    pub id: String,
    /// The subscriber's `cus_…`.
    pub customer: String,
    /// The one subscription item's id (`si_…`); it survives price changes, as in Stripe.
    pub item_id: String,
    /// When it was created (equal to `start_date`).
    pub created: i64,
    /// Start of the first period and the billing anchor.
    pub start_date: i64,
    /// Status now (at the data clock).
    pub status: SubscriptionStatus,
    /// Set when the customer asked to cancel; the subscription then ends at
    /// `current_period_end` instead of renewing.
    pub cancel_at_period_end: bool,
    /// When cancellation was requested (or when it was canceled for non-payment).
    pub canceled_at: Option<i64>,
    /// When the subscription stopped: the period end for a requested
    /// cancellation, the last failed payment attempt for non-payment.
    pub ended_at: Option<i64>,
    /// Start of the last period (kept after cancellation, like Stripe).
    pub current_period_start: i64,
    /// End of the last period.
    pub current_period_end: i64,
    /// The account currency.
    pub currency: String,
    /// The invoice of the last period.
    pub latest_invoice: Option<String>,
    /// The free trial, when it started with one: its first period, billed $0.
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    /// The metered item's id (`si_…`), when the subscription also pays for API usage.
    pub metered_item: Option<String>,
    /// While collection is paused: when it resumes (the paused period's end).
    pub paused_until: Option<i64>,
    /// The coupon applied (a once coupon is removed after the first invoice; a
    /// repeating one stays, with the `end` after which it discounts nothing).
    pub discount: Option<SubscriptionDiscount>,
    /// Every billing period so far, oldest first: the full price and quantity
    /// history (changes take effect at a renewal boundary).
    pub periods: Vec<SubscriptionPeriod>,
    /// Last time anything about the subscription changed (not a Stripe field).
    pub updated: i64,
}

impl StripeSubscription {
    /// The period in force now (the last one).
    pub fn current(&self) -> &SubscriptionPeriod {
        self.periods
            .last()
            .expect("a subscription has a first period")
    }

    /// The period covering `t`, if the subscription was live then (before
    /// `ended_at`).
    pub fn period_at(&self, t: i64) -> Option<&SubscriptionPeriod> {
        if self.ended_at.is_some_and(|ended| t >= ended) {
            return None;
        }
        self.periods.iter().find(|p| p.start <= t && t < p.end)
    }
}

/// One billing period of a subscription and what it was billed at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionPeriod {
    /// When the period (and its invoice) began.
    pub start: i64,
    /// The scheduled end; a subscription canceled for non-payment stops
    /// earlier, at its `ended_at`.
    pub end: i64,
    /// The `price_…` billed for this period.
    pub price: String,
    /// Per seat, for the whole period.
    pub unit_amount: i64,
    /// The price's interval unit.
    pub interval: Interval,
    /// The price's intervals per period.
    pub interval_count: u32,
    /// Seats billed for this period.
    pub quantity: u32,
    /// The invoice billing this period.
    pub invoice: String,
    /// A free trial's period: its invoice bills nothing.
    pub trial: bool,
    /// What the subscription's coupon took off this period's invoice.
    pub discount: i64,
    /// Collection was paused for this period: its invoice was voided.
    pub paused: bool,
}

impl SubscriptionPeriod {
    /// `unit_amount × quantity`: the price of the period before any coupon (what a
    /// trial would cost).
    pub fn amount(&self) -> i64 {
        self.unit_amount * i64::from(self.quantity)
    }

    /// What the period's invoice asks for: nothing in a trial or a paused period (its
    /// invoice is void), else the amount less the coupon's discount.
    pub fn billed(&self) -> i64 {
        if self.trial || self.paused {
            0
        } else {
            self.amount() - self.discount
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Open,
    Paid,
    /// Voided: a period billed while collection was paused (`pause_collection`
    /// with `behavior: void`).
    Void,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Void => "void",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripeInvoice {
    /// `in_…`.
    pub id: String,
    /// The billed `cus_…`.
    pub customer: String,
    /// The subscription billed (always set: one-off charges have no invoice).
    pub subscription: Option<String>,
    /// Period start for renewals; payment follows an hour later.
    pub created: i64,
    /// `subscription_create` or `subscription_cycle`.
    pub billing_reason: String,
    /// Stripe's top-level period: for a renewal invoice it is the *previous*
    /// period (Stripe's documented quirk); the billed period is on the line.
    pub period_start: i64,
    /// See `period_start`.
    pub period_end: i64,
    /// `paid`, or `open` while unpaid (and after dunning gave up).
    pub status: InvoiceStatus,
    /// Σ lines' amounts before discounts (0 for a trial's invoice).
    pub subtotal: i64,
    /// The coupon's discount: (`di_…`, amount taken off).
    pub discount: Option<(String, i64)>,
    /// `subtotal` less the discount (no taxes).
    pub amount_due: i64,
    /// `amount_due` once paid, else 0.
    pub amount_paid: i64,
    /// Payment attempts so far.
    pub attempt_count: u32,
    /// The latest charge attempt.
    pub charge: Option<String>,
    /// Every charge attempt, oldest first.
    pub charges: Vec<String>,
    /// When the successful attempt happened.
    pub paid_at: Option<i64>,
    /// When Stripe retries next, while open.
    pub next_payment_attempt: Option<i64>,
    /// The account currency.
    pub currency: String,
    /// One line: the billed period.
    pub lines: Vec<InvoiceLine>,
    /// Last change (creation, attempt, payment); not a Stripe field.
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceLine {
    /// `il_…`.
    pub id: String,
    /// `unit_amount × quantity`, before discounts; 0 for a trial.
    pub amount: i64,
    /// The part of the invoice's discount on this line: (`di_…`, amount).
    pub discount: Option<(String, i64)>,
    /// A trial's line ("Trial period for …").
    pub trial: bool,
    /// What the line bills: the period's seats, metered usage or a proration.
    pub kind: LineKind,
    /// Seats.
    pub quantity: u32,
    /// The `price_…` billed.
    pub price: String,
    /// Per seat, for the period.
    pub unit_amount: i64,
    /// The price's interval unit.
    pub interval: Interval,
    /// The price's intervals per period.
    pub interval_count: u32,
    /// The billed period's start.
    pub period_start: i64,
    /// The billed period's end.
    pub period_end: i64,
    /// The `sub_…` billed.
    pub subscription: String,
}

/// What an invoice line bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The period's seats, in advance.
    Subscription,
    /// Usage of the period before, in arrears (the metered price).
    Metered,
    /// Part of a period after a mid-period change: a credit for the unused time at
    /// the old seats (negative) or a charge for the rest at the new ones.
    Proration,
}

/// The metered price: API calls, per thousand, billed monthly in arrears.
pub const METERED_PRICE: &str = "price_1SimApiCallsMetered";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Succeeded,
    Failed,
}

impl ChargeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripeCharge {
    /// `ch_…`.
    pub id: String,
    /// The paying `cus_…`.
    pub customer: String,
    /// `None` for one-off charges.
    pub invoice: Option<String>,
    /// When the attempt happened.
    pub created: i64,
    /// Attempted amount (captured in full when it succeeded).
    pub amount: i64,
    /// Sum of this charge's refunds.
    pub amount_refunded: i64,
    /// `succeeded` or `failed`; only succeeded charges count as revenue.
    pub status: ChargeStatus,
    /// `card_declined` etc. for failed charges.
    pub failure_code: Option<String>,
    /// Why (subscription or one-off extra).
    pub description: String,
    /// The account currency.
    pub currency: String,
    /// Ids of this charge's refunds, oldest first.
    pub refunds: Vec<String>,
    /// Last change (refunds); not a Stripe field.
    pub updated: i64,
}

impl StripeCharge {
    /// Stripe's `paid`: the charge succeeded.
    pub fn paid(&self) -> bool {
        self.status == ChargeStatus::Succeeded
    }

    /// Stripe's `refunded`: fully refunded.
    pub fn refunded(&self) -> bool {
        self.paid() && self.amount_refunded == self.amount
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripeRefund {
    /// `re_…`.
    pub id: String,
    /// The refunded `ch_…`.
    pub charge: String,
    /// Refunded amount (partial or the rest of the charge).
    pub amount: i64,
    /// When it was refunded: 1–10 days after the charge, or the clock for handle refunds.
    pub created: i64,
    /// The charge's currency.
    pub currency: String,
    /// Always `succeeded` in the simulator.
    pub status: String,
}

/// An event as `/v1/events` lists it; `object` is the snapshot at `created`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StripeEvent {
    /// `evt_…`.
    pub id: String,
    /// `customer.created`, `charge.refunded`, … (JSON `type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub created: i64,
    /// Id of the object the event is about.
    pub object_id: String,
    /// `data.object`: the object as it was right after the change.
    pub object: Value,
    /// `data.previous_attributes` for `*.updated`-style events.
    pub previous_attributes: Option<Value>,
}

/// What the list endpoints sort and page on.
pub(crate) trait Listed {
    fn created(&self) -> i64;
    fn id(&self) -> &str;
}

macro_rules! listed {
    ($($t:ty),*) => {$(
        impl Listed for $t {
            fn created(&self) -> i64 { self.created }
            fn id(&self) -> &str { &self.id }
        }
    )*};
}
listed!(
    StripeCustomer,
    StripeSubscription,
    StripeInvoice,
    StripeCharge,
    StripeRefund,
    StripeEvent
);

/// Stripe's API version the shapes follow (before 2025's move of billing
/// periods onto items; the simulator sends both places).
pub const STRIPE_API_VERSION: &str = "2024-06-20";

impl StripeLedger {
    pub(crate) fn price(&self, id: &str) -> Option<&StripePrice> {
        self.prices.iter().find(|p| p.id == id)
    }

    pub(crate) fn price_json(
        &self,
        id: &str,
        unit_amount: i64,
        interval: Interval,
        count: u32,
    ) -> Value {
        let price = self.price(id);
        json!({
            "id": id,
            "object": "price",
            "active": true,
            "currency": self.currency,
            "nickname": price.map(|p| p.nickname.as_str()),
            "product": price.map(|p| p.product.as_str()),
            "recurring": {
                "interval": interval.as_str(),
                "interval_count": count,
                "usage_type": if id == METERED_PRICE { "metered" } else { "licensed" },
            },
            "type": "recurring",
            "unit_amount": unit_amount,
            "created": price.map(|p| p.created),
            "livemode": self.livemode,
        })
    }

    pub(crate) fn coupon(&self, id: &str) -> Option<&StripeCoupon> {
        self.coupons.iter().find(|c| c.id == id)
    }

    pub(crate) fn coupon_json(&self, c: &StripeCoupon) -> Value {
        let (duration, months) = match c.duration {
            CouponDuration::Once => ("once", None),
            CouponDuration::Repeating(months) => ("repeating", Some(months)),
            CouponDuration::Forever => ("forever", None),
        };
        json!({
            "id": c.id,
            "object": "coupon",
            "name": c.name,
            "percent_off": c.percent_off,
            "amount_off": c.amount_off,
            "currency": c.amount_off.map(|_| self.currency.as_str()),
            "duration": duration,
            "duration_in_months": months,
            "created": c.created,
            "valid": true,
            "livemode": self.livemode,
        })
    }

    /// A subscription's `discount` object, with its coupon whole.
    fn discount_json(&self, s: &StripeSubscription, d: &SubscriptionDiscount) -> Value {
        let mut json = json!({
            "id": d.id,
            "object": "discount",
            "customer": s.customer,
            "subscription": s.id,
            "start": d.start,
            "end": d.end,
        });
        json["coupon"] = self
            .coupon(&d.coupon)
            .map_or(Value::Null, |c| self.coupon_json(c));
        json
    }

    pub(crate) fn customer_json(&self, c: &StripeCustomer) -> Value {
        json!({
            "id": c.id,
            "object": "customer",
            "created": c.created,
            "email": c.email,
            "name": c.name,
            "currency": self.currency,
            "balance": 0,
            "delinquent": false,
            "description": null,
            "livemode": self.livemode,
            "metadata": {},
        })
    }

    pub(crate) fn subscription_items_json(&self, s: &StripeSubscription) -> Value {
        let p = s.current();
        let mut item = json!({
            "id": s.item_id,
            "object": "subscription_item",
            "created": s.created,
            "quantity": p.quantity,
            "subscription": s.id,
            "current_period_start": s.current_period_start,
            "current_period_end": s.current_period_end,
        });
        item["price"] = self.price_json(&p.price, p.unit_amount, p.interval, p.interval_count);
        let mut items = vec![item];
        if let Some(metered_item) = &s.metered_item {
            // Usage-based: no quantity, billed in arrears.
            let mut metered = json!({
                "id": metered_item,
                "object": "subscription_item",
                "created": s.created,
                "subscription": s.id,
                "current_period_start": s.current_period_start,
                "current_period_end": s.current_period_end,
            });
            let unit = self.price(METERED_PRICE).map_or(0, |p| p.unit_amount);
            metered["price"] = self.price_json(METERED_PRICE, unit, Interval::Month, 1);
            items.push(metered);
        }
        list_json(
            items,
            format!("/v1/subscription_items?subscription={}", s.id),
        )
    }

    pub(crate) fn subscription_json(&self, s: &StripeSubscription) -> Value {
        let mut json = json!({
            "id": s.id,
            "object": "subscription",
            "customer": s.customer,
            "status": s.status.as_str(),
            "created": s.created,
            "start_date": s.start_date,
            "billing_cycle_anchor": s.start_date,
            "current_period_start": s.current_period_start,
            "current_period_end": s.current_period_end,
            "cancel_at_period_end": s.cancel_at_period_end,
            "cancel_at": s.cancel_at_period_end.then_some(s.current_period_end),
            "canceled_at": s.canceled_at,
            "ended_at": s.ended_at,
            "collection_method": "charge_automatically",
            "currency": s.currency,
            "latest_invoice": s.latest_invoice,
            "quantity": s.current().quantity,
            "trial_start": s.trial_start,
            "trial_end": s.trial_end,
            "pause_collection": s.paused_until.map(|resumes_at| json!({ "behavior": "void", "resumes_at": resumes_at })),
            "livemode": self.livemode,
            "metadata": {},
        });
        json["items"] = self.subscription_items_json(s);
        let discount = s.discount.as_ref().map(|d| self.discount_json(s, d));
        json["discounts"] = json!(s.discount.iter().map(|d| d.id.as_str()).collect::<Vec<_>>());
        json["discount"] = discount.unwrap_or(Value::Null);
        json
    }

    pub(crate) fn invoice_json(&self, i: &StripeInvoice) -> Value {
        let lines: Vec<Value> = i
            .lines
            .iter()
            .map(|l| {
                let nickname = self.price(&l.price).map_or("", |p| p.nickname.as_str());
                let description = if l.trial {
                    format!("Trial period for {nickname}")
                } else {
                    format!("{} × {nickname}", l.quantity)
                };
                let discount_amounts: Vec<Value> = l
                    .discount
                    .iter()
                    .map(|(id, amount)| json!({ "amount": amount, "discount": id }))
                    .collect();
                let mut line = json!({
                    "id": l.id,
                    "object": "line_item",
                    "amount": l.amount,
                    "amount_excluding_tax": l.amount,
                    "currency": i.currency,
                    "description": description,
                    "discount_amounts": discount_amounts,
                    "discountable": true,
                    "discounts": l.discount.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
                    "period": { "start": l.period_start, "end": l.period_end },
                    "proration": l.kind == LineKind::Proration,
                    "quantity": l.quantity,
                    "subscription": l.subscription,
                    "type": if l.kind == LineKind::Proration { "invoiceitem" } else { "subscription" },
                });
                line["price"] =
                    self.price_json(&l.price, l.unit_amount, l.interval, l.interval_count);
                line
            })
            .collect();
        let paid = i.status == InvoiceStatus::Paid;
        let mut json = json!({
            "id": i.id,
            "object": "invoice",
            "customer": i.customer,
            "subscription": i.subscription,
            "status": i.status.as_str(),
            "created": i.created,
            "currency": i.currency,
            "billing_reason": i.billing_reason,
            "collection_method": "charge_automatically",
            "period_start": i.period_start,
            "period_end": i.period_end,
            "subtotal": i.subtotal,
            "total": i.amount_due,
            "total_discount_amounts": i.discount.iter()
                .map(|(id, amount)| json!({ "amount": amount, "discount": id }))
                .collect::<Vec<_>>(),
            "discounts": i.discount.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            "tax": null,
            "amount_due": i.amount_due,
            "amount_paid": i.amount_paid,
            "amount_remaining": i.amount_due - i.amount_paid,
            "attempt_count": i.attempt_count,
            "attempted": i.attempt_count > 0,
            "paid": paid,
            "charge": i.charge,
            "next_payment_attempt": i.next_payment_attempt,
            "status_transitions": {
                "finalized_at": i.created,
                "paid_at": i.paid_at,
                "marked_uncollectible_at": null,
                "voided_at": (i.status == InvoiceStatus::Void).then_some(i.created),
            },
            "livemode": self.livemode,
            "metadata": campaign_metadata(i.subscription.as_deref().unwrap_or(&i.id)),
        });
        json["lines"] = list_json(lines, format!("/v1/invoices/{}/lines", i.id));
        json
    }

    pub fn charge_json(&self, c: &StripeCharge) -> Value {
        let paid = c.paid();
        let (outcome_type, network_status, seller_message) = if paid {
            ("authorized", "approved_by_network", "Payment complete.")
        } else {
            (
                "issuer_declined",
                "declined_by_network",
                "The bank did not return any further details with this decline.",
            )
        };
        json!({
            "id": c.id,
            "object": "charge",
            "amount": c.amount,
            "amount_captured": if paid { c.amount } else { 0 },
            "amount_refunded": c.amount_refunded,
            "balance_transaction": null,
            "captured": paid,
            "created": c.created,
            "currency": c.currency,
            "customer": c.customer,
            "description": c.description,
            "disputed": false,
            "failure_code": c.failure_code,
            "failure_message": c.failure_code.as_ref().map(|_| "Your card was declined."),
            "invoice": c.invoice,
            "livemode": self.livemode,
            "metadata": campaign_metadata(c.invoice.as_deref().unwrap_or(&c.id)),
            "outcome": {
                "network_status": network_status,
                "seller_message": seller_message,
                "type": outcome_type,
            },
            "paid": paid,
            "refunded": c.refunded(),
            "status": c.status.as_str(),
        })
    }

    pub(crate) fn refund_json(&self, r: &StripeRefund) -> Value {
        json!({
            "id": r.id,
            "object": "refund",
            "amount": r.amount,
            "balance_transaction": null,
            "charge": r.charge,
            "created": r.created,
            "currency": r.currency,
            "metadata": {},
            "payment_intent": null,
            "reason": "requested_by_customer",
            "status": r.status,
        })
    }

    pub fn event_json(&self, e: &StripeEvent) -> Value {
        let mut data = json!({});
        data["object"] = e.object.clone();
        if let Some(previous) = &e.previous_attributes {
            data["previous_attributes"] = previous.clone();
        }
        let mut json = json!({
            "id": e.id,
            "object": "event",
            "api_version": STRIPE_API_VERSION,
            "created": e.created,
            "livemode": self.livemode,
            "pending_webhooks": 0,
            "request": { "id": null, "idempotency_key": null },
            "type": e.kind,
        });
        json["data"] = data;
        json
    }
}

/// An embedded list object (`has_more: false`: the simulator embeds whole lists).
// `json!` would deep-copy `data` through serde; moving it in is what keeps
// rendering cheap.
fn list_json(data: Vec<Value>, url: String) -> Value {
    let mut json =
        json!({ "object": "list", "has_more": false, "total_count": data.len(), "url": url });
    json["data"] = Value::Array(data);
    json
}

/// The campaign that brought a sale, as a merchant tags it in `metadata`: chosen
/// from the object's id (a subscription's renewals keep the campaign of its start);
/// about one sale in five has none.
fn campaign_metadata(id: &str) -> Value {
    const CAMPAIGNS: &[&str] = &["launch-email", "producthunt", "twitter-ads", "newsletter"];
    let hash = id
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    match CAMPAIGNS.get((hash % 5) as usize) {
        Some(campaign) => json!({ "utm_campaign": campaign }),
        None => json!({}),
    }
}
