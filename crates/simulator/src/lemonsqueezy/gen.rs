//! Generates the simulated LemonSqueezy store: a digital-products business whose
//! customers arrive over the simulated history (the same seasonality as the
//! simulated Stripe SaaS), most of them subscribing to a monthly or yearly plan
//! (an order, then a subscription invoice per period), the others buying a one-off
//! product; some cancel (the subscription ends with its period, then expires), some
//! orders and invoices are refunded in full or in part, and many checkouts carry a
//! campaign in their custom data. About one subscriber in five starts with a
//! 14-day free trial (`on_trial`, a $0 order, the first invoice at the trial's end);
//! some cancel during the trial and never pay. About one paying subscriber in three
//! checks out with a discount code (`DISCOUNTS`: a percentage once, a percentage for
//! three months, an amount for good), recorded as a discount redemption of the
//! order; each order and invoice carries what it took off in `discount_total`.
//!
//! One [`Rng`] stream and an [`Agenda`] processed in time order: the same seed
//! gives the same store, and advancing in steps gives the same data as at once.
//! Activity generated after the store was created (the clock moving on) is also
//! queued as webhook events, for [`LemonSqueezyGen::take_events`].

use serde::Serialize;

use crate::common::{
    agenda::Agenda,
    rng::{hash_str, mix, Rng},
    season::Season,
    time::{add_months, DAY, HOUR},
};

/// Quiet weekends, a year-end bump, steady growth.
const SEASON: Season = Season {
    weekend: 0.6,
    months: [
        0.95, 0.92, 0.98, 0.98, 1.0, 0.96, 0.94, 0.96, 1.02, 1.05, 1.12, 1.12,
    ],
    bfcm: 1.5,
    growth_per_year: 1.6,
};

/// A price: (id, variant id, product, variant, US cents, interval, count, weight).
type PriceRow = (u64, u64, &'static str, &'static str, i64, &'static str, u32, f64);

/// The store's prices.
/// Subscription prices first; `interval` is empty for one-off products.
const PRICES: [PriceRow; 5] = [
    (301, 31, "Pulse Pro", "Monthly", 1900, "month", 1, 0.45),
    (302, 32, "Pulse Pro", "Yearly", 19000, "year", 1, 0.15),
    (303, 33, "Pulse Team", "Monthly", 4900, "month", 1, 0.15),
    (304, 34, "Icon pack", "Standard", 2900, "", 0, 0.15),
    (305, 35, "Launch guide", "PDF", 900, "", 0, 0.10),
];

/// A free trial's length.
const TRIAL: i64 = 14 * DAY;

/// A discount: (id, code, `percent` or `fixed`, percent or cents, `once`,
/// `repeating` or `forever`, months when repeating).
type DiscountRow = (u64, &'static str, &'static str, i64, &'static str, u32);

const DISCOUNTS: [DiscountRow; 3] = [
    (31, "WELCOME10", "percent", 10, "once", 0),
    (32, "LAUNCH25", "percent", 25, "repeating", 3),
    (33, "LOYAL5", "fixed", 500, "forever", 0),
];

const CAMPAIGNS: [&str; 4] = ["launch", "newsletter", "producthunt", "twitter"];
const FIRST_NAMES: [&str; 10] = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
];
const LAST_NAMES: [&str; 10] = [
    "Adams", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
];

/// A price of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsPrice {
    pub id: u64,
    pub variant_id: u64,
    pub product_name: String,
    pub variant_name: String,
    /// Minor units of the store's currency.
    pub unit_price: i64,
    /// `month` or `year` for subscriptions; `None` for one-off products.
    pub interval: Option<String>,
    pub interval_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsDiscount {
    pub id: u64,
    pub code: String,
    /// `percent` or `fixed`.
    pub amount_type: String,
    /// Percent, or cents off each payment it applies to.
    pub amount: i64,
    /// `once` (the first payment), `repeating` (`duration_in_months`) or `forever`.
    pub duration: String,
    pub duration_in_months: u32,
}

impl LsDiscount {
    /// What it takes off a payment of `subtotal`: a percentage rounded half up, or
    /// the amount (never more than the subtotal).
    pub fn off(&self, subtotal: i64) -> i64 {
        match self.amount_type.as_str() {
            "percent" => (subtotal * self.amount + 50) / 100,
            _ => self.amount.min(subtotal),
        }
    }
}

/// A discount code used on an order (LemonSqueezy's discount redemption).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsRedemption {
    pub id: u64,
    pub discount_id: u64,
    pub order_id: u64,
    /// What it took off the order.
    pub amount: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsCustomer {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An order or a subscription invoice: money paid, maybe refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsPayment {
    pub id: u64,
    pub customer_id: u64,
    pub email: String,
    pub name: String,
    /// What was paid: the price less `discount`.
    pub total: i64,
    /// What a discount code took off.
    pub discount: i64,
    pub currency: String,
    /// `paid`, `refunded` or `partial_refund`.
    pub status: String,
    pub refunded_amount: i64,
    pub refunded_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Orders: the price bought; invoices: the subscription's.
    pub price_id: u64,
    /// Invoices: their subscription; orders: the subscription they started, if any.
    pub subscription_id: Option<u64>,
    /// Invoices only: `initial` or `renewal`.
    pub billing_reason: Option<String>,
    /// The campaign in the checkout's custom data (orders, and their subscription's invoices).
    pub campaign: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsSubscription {
    pub id: u64,
    pub order_id: u64,
    pub customer_id: u64,
    pub email: String,
    pub name: String,
    pub price_id: u64,
    pub variant_id: u64,
    pub quantity: i64,
    /// `on_trial`, `active`, `cancelled` (ends with its period) or `expired`.
    pub status: String,
    pub created_at: i64,
    /// The end of its free trial, if it started with one.
    pub trial_end: Option<i64>,
    /// The discount code it checked out with.
    pub discount_id: Option<u64>,
    pub renews_at: i64,
    pub ends_at: Option<i64>,
    pub updated_at: i64,
    pub campaign: Option<String>,
}

/// Everything in the simulated store, for tests to compute expected metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LemonSqueezyLedger {
    pub store_id: u64,
    pub store_name: String,
    pub currency: String,
    pub start: i64,
    pub end: i64,
    pub prices: Vec<LsPrice>,
    pub discounts: Vec<LsDiscount>,
    pub redemptions: Vec<LsRedemption>,
    pub customers: Vec<LsCustomer>,
    pub orders: Vec<LsPayment>,
    pub subscriptions: Vec<LsSubscription>,
    pub invoices: Vec<LsPayment>,
}

/// Something webhooks announce: the event name and the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Announce {
    Order(usize),
    Subscription(usize),
    Invoice(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Task {
    Hour,
    Arrive,
    Renew(usize),
    Cancel(usize),
    RefundOrder(usize),
    RefundInvoice(usize),
}

#[derive(Debug)]
pub(crate) struct LemonSqueezyGen {
    rng: Rng,
    agenda: Agenda<Task>,
    daily_arrivals: f64,
    anchor: i64,
    /// Activity at or after this is queued for webhooks.
    live_from: i64,
    pub events: Vec<(&'static str, Announce)>,
    pub ledger: LemonSqueezyLedger,
}

impl LemonSqueezyGen {
    pub fn new(seed: u64, store_id: u64, start: i64, anchor: i64, daily_arrivals: f64) -> Self {
        let prices = PRICES
            .iter()
            .map(|(id, variant, product, name, cents, interval, count, _)| LsPrice {
                id: *id,
                variant_id: *variant,
                product_name: (*product).into(),
                variant_name: (*name).into(),
                unit_price: *cents,
                interval: (!interval.is_empty()).then(|| (*interval).to_owned()),
                interval_count: *count,
            })
            .collect();
        let mut agenda = Agenda::default();
        agenda.push(start.div_euclid(HOUR) * HOUR, Task::Hour);
        Self {
            rng: Rng::new(mix(seed ^ hash_str("lemonsqueezy") ^ store_id)),
            agenda,
            daily_arrivals,
            anchor,
            live_from: i64::MAX,
            events: Vec::new(),
            ledger: LemonSqueezyLedger {
                store_id,
                store_name: "Pulse Digital".into(),
                currency: "USD".into(),
                start,
                end: start,
                prices,
                discounts: DISCOUNTS
                    .iter()
                    .map(|(id, code, amount_type, amount, duration, months)| LsDiscount {
                        id: *id,
                        code: (*code).into(),
                        amount_type: (*amount_type).into(),
                        amount: *amount,
                        duration: (*duration).into(),
                        duration_in_months: *months,
                    })
                    .collect(),
                redemptions: Vec::new(),
                customers: Vec::new(),
                orders: Vec::new(),
                subscriptions: Vec::new(),
                invoices: Vec::new(),
            },
        }
    }

    /// From now on, generated activity is also queued for webhooks.
    pub fn go_live(&mut self) {
        self.live_from = self.ledger.end;
    }

    /// Runs everything due before `end`.
    pub fn advance(&mut self, end: i64) {
        if end <= self.ledger.end {
            return;
        }
        while let Some((at, task)) = self.agenda.pop_before(end) {
            self.run(at, task);
        }
        self.ledger.end = end;
    }

    fn announce(&mut self, t: i64, name: &'static str, what: Announce) {
        if t >= self.live_from {
            self.events.push((name, what));
        }
    }

    /// The queued webhook events, oldest first, emptying the queue.
    pub fn take_events(&mut self) -> Vec<(&'static str, Announce)> {
        std::mem::take(&mut self.events)
    }

    fn run(&mut self, at: i64, task: Task) {
        match task {
            Task::Hour => {
                let rate = SEASON.hourly_rate(self.daily_arrivals, at, self.anchor);
                for _ in 0..self.rng.poisson(rate) {
                    let when = at + self.rng.range(0, HOUR);
                    if when >= self.ledger.start {
                        self.agenda.push(when, Task::Arrive);
                    }
                }
                self.agenda.push(at + HOUR, Task::Hour);
            }
            Task::Arrive => self.arrive(at),
            Task::Renew(si) => self.renew(si, at),
            Task::Cancel(si) => {
                let sub = &mut self.ledger.subscriptions[si];
                if matches!(sub.status.as_str(), "active" | "on_trial") {
                    sub.status = "cancelled".into();
                    sub.ends_at = Some(sub.renews_at);
                    sub.updated_at = at;
                    self.announce(at, "subscription_cancelled", Announce::Subscription(si));
                }
            }
            Task::RefundOrder(i) => {
                let amount = self.refund_amount(self.ledger.orders[i].total);
                refund(&mut self.ledger.orders[i], amount, at);
                self.announce(at, "order_refunded", Announce::Order(i));
            }
            Task::RefundInvoice(i) => {
                let amount = self.refund_amount(self.ledger.invoices[i].total);
                refund(&mut self.ledger.invoices[i], amount, at);
                self.announce(at, "subscription_payment_refunded", Announce::Invoice(i));
            }
        }
    }

    fn refund_amount(&mut self, total: i64) -> i64 {
        if self.rng.chance(0.6) {
            total
        } else {
            ((total as f64 * self.rng.uniform(0.2, 0.7)) as i64).max(1)
        }
    }

    fn arrive(&mut self, t: i64) {
        let n = self.ledger.customers.len();
        let first = *self.rng.pick(&FIRST_NAMES);
        let last = *self.rng.pick(&LAST_NAMES);
        let customer = LsCustomer {
            id: 9001 + n as u64,
            name: format!("{first} {last}"),
            email: format!("{}.{}{n}@example.com", first.to_lowercase(), last.to_lowercase()),
            created_at: t,
            updated_at: t,
        };
        let weights: Vec<f64> = PRICES.iter().map(|p| p.7).collect();
        let price = self.ledger.prices[self.rng.weighted(&weights)].clone();
        // One subscriber in five starts with a free trial; drawn from the customer's
        // id, so the rest of the history stays as it was.
        let trial = price.interval.is_some() && hash_str(&format!("trial{}", customer.id)) % 5 == 0;
        // One paying subscriber in three uses a discount code (drawn the same way).
        let discount = (price.interval.is_some() && !trial)
            .then(|| hash_str(&format!("discount{}", customer.id)) % 9)
            .filter(|draw| *draw < 3)
            .map(|draw| self.ledger.discounts[draw as usize].clone());
        let off = discount.as_ref().map_or(0, |d| d.off(price.unit_price));
        let campaign = self
            .rng
            .chance(0.4)
            .then(|| (*self.rng.pick(&CAMPAIGNS)).to_owned());
        let oi = self.ledger.orders.len();
        let order = LsPayment {
            id: 5001 + oi as u64,
            customer_id: customer.id,
            email: customer.email.clone(),
            name: customer.name.clone(),
            total: if trial { 0 } else { price.unit_price - off },
            discount: off,
            currency: self.ledger.currency.clone(),
            status: "paid".into(),
            refunded_amount: 0,
            refunded_at: None,
            created_at: t,
            updated_at: t,
            price_id: price.id,
            subscription_id: None,
            billing_reason: None,
            campaign: campaign.clone(),
        };
        if let Some(d) = &discount {
            self.ledger.redemptions.push(LsRedemption {
                id: 400 + self.ledger.redemptions.len() as u64,
                discount_id: d.id,
                order_id: order.id,
                amount: off,
                created_at: t,
            });
        }
        self.ledger.customers.push(customer);
        self.ledger.orders.push(order);
        self.announce(t, "order_created", Announce::Order(oi));
        if let Some(interval) = &price.interval {
            let months = if interval == "year" { 12 } else { 1 } * price.interval_count;
            let si = self.ledger.subscriptions.len();
            let order = &self.ledger.orders[oi];
            let subscription = LsSubscription {
                id: 700 + si as u64,
                order_id: order.id,
                customer_id: order.customer_id,
                email: order.email.clone(),
                name: order.name.clone(),
                price_id: price.id,
                variant_id: price.variant_id,
                quantity: 1,
                status: if trial { "on_trial" } else { "active" }.into(),
                created_at: t,
                trial_end: trial.then_some(t + TRIAL),
                discount_id: discount.as_ref().map(|d| d.id),
                renews_at: if trial { t + TRIAL } else { add_months(t, months) },
                ends_at: None,
                updated_at: t,
                campaign,
            };
            self.ledger.orders[oi].subscription_id = Some(subscription.id);
            let renews = subscription.renews_at;
            self.ledger.subscriptions.push(subscription);
            self.announce(t, "subscription_created", Announce::Subscription(si));
            // The order's invoice: nothing for a trial, billed at its end (a renewal).
            self.invoice(si, t, "initial", trial);
            self.agenda.push(renews, Task::Renew(si));
            self.maybe_cancel(si, t, renews);
        } else if self.rng.chance(0.06) {
            let at = t + self.rng.range(DAY, 10 * DAY);
            self.agenda.push(at, Task::RefundOrder(oi));
        }
    }

    /// Bills the subscription's period starting at `t`; `free` for a trial's.
    fn invoice(&mut self, si: usize, t: i64, reason: &str, free: bool) {
        let sub = &self.ledger.subscriptions[si];
        let price = self.ledger.prices.iter().find(|p| p.id == sub.price_id);
        let subtotal = if free { 0 } else { price.map_or(0, |p| p.unit_price) * sub.quantity };
        // The code's discount while it lasts: the first payment (`once`), the
        // payments in its first months (`repeating`), or every one (`forever`).
        let off = sub
            .discount_id
            .and_then(|id| self.ledger.discounts.iter().find(|d| d.id == id))
            .filter(|d| match d.duration.as_str() {
                "once" => reason == "initial",
                "repeating" => t < add_months(sub.created_at, d.duration_in_months),
                _ => true,
            })
            .map_or(0, |d| d.off(subtotal));
        let ii = self.ledger.invoices.len();
        let invoice = LsPayment {
            id: 80_001 + ii as u64,
            customer_id: sub.customer_id,
            email: sub.email.clone(),
            name: sub.name.clone(),
            total: subtotal - off,
            discount: off,
            currency: self.ledger.currency.clone(),
            status: "paid".into(),
            refunded_amount: 0,
            refunded_at: None,
            created_at: t,
            updated_at: t,
            price_id: sub.price_id,
            subscription_id: Some(sub.id),
            billing_reason: Some(reason.into()),
            campaign: sub.campaign.clone(),
        };
        self.ledger.invoices.push(invoice);
        self.announce(t, "subscription_payment_success", Announce::Invoice(ii));
        if reason == "renewal" && self.rng.chance(0.04) {
            let at = t + self.rng.range(DAY, 10 * DAY);
            self.agenda.push(at, Task::RefundInvoice(ii));
        }
    }

    fn maybe_cancel(&mut self, si: usize, start: i64, end: i64) {
        if self.rng.chance(0.08) {
            let at = start + ((end - start) as f64 * self.rng.uniform(0.1, 0.9)) as i64;
            self.agenda.push(at, Task::Cancel(si));
        }
    }

    fn renew(&mut self, si: usize, t: i64) {
        let (status, price_id) = {
            let sub = &self.ledger.subscriptions[si];
            (sub.status.clone(), sub.price_id)
        };
        match status.as_str() {
            "cancelled" => {
                let sub = &mut self.ledger.subscriptions[si];
                sub.status = "expired".into();
                sub.ends_at = Some(t);
                sub.updated_at = t;
                self.announce(t, "subscription_expired", Announce::Subscription(si));
            }
            "active" | "on_trial" => {
                let yearly = self
                    .ledger
                    .prices
                    .iter()
                    .any(|p| p.id == price_id && p.interval.as_deref() == Some("year"));
                let renews = add_months(t, if yearly { 12 } else { 1 });
                let sub = &mut self.ledger.subscriptions[si];
                sub.status = "active".into();
                sub.renews_at = renews;
                sub.updated_at = t;
                self.announce(t, "subscription_updated", Announce::Subscription(si));
                self.invoice(si, t, "renewal", false);
                self.agenda.push(renews, Task::Renew(si));
                self.maybe_cancel(si, t, renews);
            }
            _ => {}
        }
    }

    /// A new order now (at the clock), for the demo and tests: a one-off purchase
    /// of the price with this id, tagged with `campaign`.
    pub fn order_now(&mut self, price_id: u64, campaign: Option<&str>) -> Option<usize> {
        let price = self.ledger.prices.iter().find(|p| p.id == price_id)?.clone();
        let t = self.ledger.end;
        let n = self.ledger.customers.len();
        let customer = LsCustomer {
            id: 9001 + n as u64,
            name: "Live Buyer".into(),
            email: format!("live.buyer{n}@example.com"),
            created_at: t,
            updated_at: t,
        };
        let oi = self.ledger.orders.len();
        self.ledger.orders.push(LsPayment {
            id: 5001 + oi as u64,
            customer_id: customer.id,
            email: customer.email.clone(),
            name: customer.name.clone(),
            total: price.unit_price,
            discount: 0,
            currency: self.ledger.currency.clone(),
            status: "paid".into(),
            refunded_amount: 0,
            refunded_at: None,
            created_at: t,
            updated_at: t,
            price_id,
            subscription_id: None,
            billing_reason: None,
            campaign: campaign.map(str::to_owned),
        });
        self.ledger.customers.push(customer);
        self.events.push(("order_created", Announce::Order(oi)));
        Some(oi)
    }
}

fn refund(payment: &mut LsPayment, amount: i64, t: i64) {
    let amount = amount.min(payment.total - payment.refunded_amount);
    if amount <= 0 {
        return;
    }
    payment.refunded_amount += amount;
    payment.status = if payment.refunded_amount >= payment.total {
        "refunded"
    } else {
        "partial_refund"
    }
    .into();
    payment.refunded_at = Some(t);
    payment.updated_at = t;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepwise_advance_equals_one_advance_and_the_store_is_coherent() {
        let start = 1_700_000_000 - 200 * DAY;
        let mut once = LemonSqueezyGen::new(3, 4242, start, 1_700_000_000, 8.0);
        once.advance(1_700_000_000);
        let mut steps = LemonSqueezyGen::new(3, 4242, start, 1_700_000_000, 8.0);
        for end in [start + 50 * DAY, start + 120 * DAY + 17, 1_700_000_000] {
            steps.advance(end);
        }
        assert!(once.ledger == steps.ledger);
        let ledger = &once.ledger;
        assert!(ledger.orders.len() > 800, "{}", ledger.orders.len());
        assert!(ledger.subscriptions.iter().any(|s| s.status == "expired"));
        assert!(ledger.subscriptions.iter().any(|s| s.status == "cancelled"));
        assert!(ledger.orders.iter().any(|o| o.status == "partial_refund"));
        assert!(ledger.invoices.iter().any(|i| i.status == "refunded"));
        assert!(ledger.orders.iter().any(|o| o.campaign.is_some()));
        for sub in &ledger.subscriptions {
            let initial = ledger
                .invoices
                .iter()
                .filter(|i| i.subscription_id == Some(sub.id))
                .filter(|i| i.billing_reason.as_deref() == Some("initial"))
                .count();
            assert_eq!(initial, 1);
        }
        // Discounts: a repeating one that stopped, so a renewal of a discounted
        // subscription at full price.
        assert!(ledger.redemptions.len() > 10);
        assert!(ledger.invoices.iter().any(|i| i.billing_reason.as_deref() == Some("renewal") && i.discount > 0));
        assert!(ledger.invoices.iter().any(|i| {
            i.discount == 0
                && ledger.subscriptions.iter().any(|s| Some(s.id) == i.subscription_id && s.discount_id == Some(32))
                && i.billing_reason.as_deref() == Some("renewal")
        }));
        // Trials: some converted (billed at their end), some ended unpaid.
        let trials = || ledger.subscriptions.iter().filter(|s| s.trial_end.is_some());
        assert!(trials().any(|s| s.status == "active"));
        assert!(trials().any(|s| s.ends_at.is_some_and(|e| Some(e) <= s.trial_end)));
        assert!(once.events.is_empty(), "history is not announced");
    }
}
