//! Generates the simulated Paddle seller: a SaaS selling subscriptions (monthly
//! and yearly) and a few one-off products over the simulated history, with the
//! same seasonality as the other simulated businesses. Each purchase is a
//! completed transaction (the first of a subscription has its `subscription_id`,
//! renewals have origin `subscription_recurring`); some subscribers schedule a
//! cancellation, which takes effect at the end of the billing period; some
//! one-off transactions are refunded (an approved refund adjustment, full or
//! partial); many checkouts carry a campaign in `custom_data`. About one
//! subscription in three checks out with a discount (`DISCOUNTS`): a percentage for
//! its first three periods, a percentage for good, or an amount off the first
//! period only; each transaction's `details.totals` carries what it took off, and
//! the subscription's `discount` says from when until when it applies. About one
//! subscription in five starts with a 14-day free trial (`trialing`, a $0 checkout
//! transaction for the trial period, the first paid period billed when it ends);
//! some trials are canceled before they end and never pay.
//!
//! Every change is an event (Paddle's `/events`, kept 90 days) whose data is the
//! entity as it was then; events of activity generated after the seller was
//! created are also queued for webhooks.

use serde::Serialize;
use serde_json::Value;

use super::api;
use crate::common::{
    agenda::Agenda,
    rng::{hash_str, mix, Rng},
    season::Season,
    time::{add_months, DAY, HOUR},
};

const SEASON: Season = Season {
    weekend: 0.55,
    months: [
        0.95, 0.92, 0.98, 0.98, 1.0, 0.96, 0.94, 0.96, 1.02, 1.05, 1.12, 1.12,
    ],
    bfcm: 1.3,
    growth_per_year: 1.6,
};

/// A free trial's length.
const TRIAL: i64 = 14 * DAY;

/// How long Paddle keeps events.
const EVENT_RETENTION: i64 = 90 * DAY;

/// A price: (id, product id, product, description, US cents, months per cycle
/// (0 for one-off), weight).
type PriceRow = (&'static str, &'static str, &'static str, &'static str, i64, u32, f64);

const PRICES: [PriceRow; 5] = [
    ("pri_01simpromonthly", "pro_01simpro", "Pulse Pro", "Pro monthly", 1900, 1, 0.45),
    ("pri_01simproyearly", "pro_01simpro", "Pulse Pro", "Pro yearly", 19000, 12, 0.15),
    ("pri_01simteammonthly", "pro_01simteam", "Pulse Team", "Team monthly", 4900, 1, 0.15),
    ("pri_01simiconpack", "pro_01simicons", "Icon pack", "Icon pack", 2900, 0, 0.15),
    ("pri_01simguide", "pro_01simguide", "Launch guide", "Launch guide", 900, 0, 0.10),
];

/// A discount: (id, code, `percentage` or `flat`, percent or US cents, the billing
/// periods it applies to (`None`: every one)).
type DiscountRow = (&'static str, &'static str, &'static str, i64, Option<u32>);

const DISCOUNTS: [DiscountRow; 3] = [
    ("dsc_01simlaunch20", "LAUNCH20", "percentage", 20, Some(3)),
    ("dsc_01simforever10", "FOREVER10", "percentage", 10, None),
    ("dsc_01simwelcome5", "WELCOME5", "flat", 500, Some(1)),
];

const CAMPAIGNS: [&str; 4] = ["launch", "newsletter", "producthunt", "twitter"];
const FIRST_NAMES: [&str; 8] = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro"];
const LAST_NAMES: [&str; 8] = ["Adams", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdPrice {
    pub id: String,
    pub product_id: String,
    pub product_name: String,
    pub description: String,
    pub unit_price: i64,
    /// `Some("month")` with 1 or 12 as frequency → month / year cycles; `None` one-off.
    pub interval: Option<String>,
    pub frequency: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdDiscount {
    pub id: String,
    pub code: String,
    /// `percentage` or `flat`.
    pub kind: String,
    /// Percent, or US cents off each period it applies to.
    pub amount: i64,
    /// `recur` with `maximum_recurring_intervals`: the billing periods it applies to,
    /// `None` for every one.
    pub periods: Option<u32>,
}

impl PdDiscount {
    /// What it takes off a period's `subtotal`: a percentage rounded half up, or the
    /// amount (never more than the subtotal).
    pub fn off(&self, subtotal: i64) -> i64 {
        match self.kind.as_str() {
            "percentage" => (subtotal * self.amount + 50) / 100,
            _ => self.amount.min(subtotal),
        }
    }
}

/// A subscription's discount: which, and from when until when it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdSubscriptionDiscount {
    pub id: String,
    pub starts_at: i64,
    /// The end of its last discounted period; `None` while it applies for good.
    pub ends_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdCustomer {
    pub id: String,
    pub name: String,
    pub email: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdTransaction {
    pub id: String,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    /// `web` or `subscription_recurring`.
    pub origin: String,
    pub status: String,
    pub currency: String,
    /// The price before the discount; `total` is `subtotal - discount` (no tax).
    pub subtotal: i64,
    pub discount: i64,
    pub discount_id: Option<String>,
    pub total: i64,
    /// A subscription's transaction: the period it pays for.
    pub billing_period: Option<(i64, i64)>,
    pub price_id: String,
    pub campaign: Option<String>,
    pub billed_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdSubscription {
    pub id: String,
    pub customer_id: String,
    pub price_id: String,
    pub quantity: i64,
    /// `trialing`, `active` or `canceled`.
    pub status: String,
    pub created_at: i64,
    pub period_start: i64,
    pub period_end: i64,
    /// Paid periods billed so far (the discount stops after its last).
    pub periods_billed: u32,
    /// The end of its free trial, if it started with one.
    pub trial_end: Option<i64>,
    pub discount: Option<PdSubscriptionDiscount>,
    /// A scheduled cancellation's effective time.
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub updated_at: i64,
    pub campaign: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdAdjustment {
    pub id: String,
    pub transaction_id: String,
    pub customer_id: String,
    pub action: String,
    pub status: String,
    pub currency: String,
    pub total: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PdEvent {
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: i64,
    pub data: Value,
}

/// Everything of the simulated seller, for tests to compute expected metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaddleLedger {
    pub currency: String,
    pub start: i64,
    pub end: i64,
    pub prices: Vec<PdPrice>,
    pub discounts: Vec<PdDiscount>,
    pub customers: Vec<PdCustomer>,
    pub transactions: Vec<PdTransaction>,
    pub subscriptions: Vec<PdSubscription>,
    pub adjustments: Vec<PdAdjustment>,
    /// The events Paddle still keeps, oldest first.
    pub events: Vec<PdEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Task {
    Hour,
    Arrive,
    Renew(usize),
    Cancel(usize),
    Refund(usize),
}

#[derive(Debug)]
pub(crate) struct PaddleGen {
    rng: Rng,
    agenda: Agenda<Task>,
    daily_arrivals: f64,
    anchor: i64,
    counter: u64,
    live_from: i64,
    /// Events queued for webhooks, oldest first.
    pub outbox: Vec<PdEvent>,
    pub ledger: PaddleLedger,
}

impl PaddleGen {
    pub fn new(seed: u64, start: i64, anchor: i64, daily_arrivals: f64) -> Self {
        let prices = PRICES
            .iter()
            .map(|(id, product, name, description, cents, months, _)| PdPrice {
                id: (*id).into(),
                product_id: (*product).into(),
                product_name: (*name).into(),
                description: (*description).into(),
                unit_price: *cents,
                interval: (*months > 0).then(|| if *months == 12 { "year" } else { "month" }.to_owned()),
                frequency: 1,
            })
            .collect();
        let mut agenda = Agenda::default();
        agenda.push(start.div_euclid(HOUR) * HOUR, Task::Hour);
        Self {
            rng: Rng::new(mix(seed ^ hash_str("paddle"))),
            agenda,
            daily_arrivals,
            anchor,
            counter: 0,
            live_from: i64::MAX,
            outbox: Vec::new(),
            ledger: PaddleLedger {
                currency: "USD".into(),
                start,
                end: start,
                prices,
                discounts: DISCOUNTS
                    .iter()
                    .map(|(id, code, kind, amount, periods)| PdDiscount {
                        id: (*id).into(),
                        code: (*code).into(),
                        kind: (*kind).into(),
                        amount: *amount,
                        periods: *periods,
                    })
                    .collect(),
                customers: Vec::new(),
                transactions: Vec::new(),
                subscriptions: Vec::new(),
                adjustments: Vec::new(),
                events: Vec::new(),
            },
        }
    }

    /// Paddle-looking ids that sort by creation: a prefix and a global counter.
    fn id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_01sim{:020}", self.counter)
    }

    pub fn go_live(&mut self) {
        self.live_from = self.ledger.end;
    }

    pub fn advance(&mut self, end: i64) {
        if end <= self.ledger.end {
            return;
        }
        while let Some((at, task)) = self.agenda.pop_before(end) {
            self.run(at, task);
        }
        self.ledger.end = end;
        let keep_from = end - EVENT_RETENTION;
        self.ledger.events.retain(|e| e.occurred_at >= keep_from);
    }

    fn emit(&mut self, t: i64, event_type: &str, data: Value) {
        let event = PdEvent {
            event_id: self.id("evt"),
            event_type: event_type.into(),
            occurred_at: t,
            data,
        };
        if t >= self.live_from {
            self.outbox.push(event.clone());
        }
        self.ledger.events.push(event);
    }

    fn emit_transaction(&mut self, i: usize, t: i64) {
        let data = api::transaction_json(&self.ledger, &self.ledger.transactions[i]);
        self.emit(t, "transaction.completed", data);
    }

    fn emit_subscription(&mut self, i: usize, t: i64, event_type: &str) {
        let data = api::subscription_json(&self.ledger, &self.ledger.subscriptions[i]);
        self.emit(t, event_type, data);
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
            Task::Arrive => {
                let weights: Vec<f64> = PRICES.iter().map(|p| p.6).collect();
                let price = self.rng.weighted(&weights);
                let campaign = self
                    .rng
                    .chance(0.4)
                    .then(|| (*self.rng.pick(&CAMPAIGNS)).to_owned());
                self.purchase(at, price, campaign);
            }
            Task::Renew(si) => self.renew(si, at),
            Task::Cancel(si) => {
                let sub = &mut self.ledger.subscriptions[si];
                if matches!(sub.status.as_str(), "active" | "trialing") && sub.cancel_at.is_none() {
                    sub.cancel_at = Some(sub.period_end);
                    sub.updated_at = at;
                    self.emit_subscription(si, at, "subscription.updated");
                }
            }
            Task::Refund(ti) => {
                let total = self.ledger.transactions[ti].total;
                let amount = if self.rng.chance(0.6) {
                    total
                } else {
                    ((total as f64 * self.rng.uniform(0.2, 0.7)) as i64).max(1)
                };
                self.refund(ti, amount, at);
            }
        }
    }

    /// A customer buys price number `price` at `t`; returns the transaction's index.
    fn purchase(&mut self, t: i64, price: usize, campaign: Option<String>) -> usize {
        let n = self.ledger.customers.len();
        let first = *self.rng.pick(&FIRST_NAMES);
        let last = *self.rng.pick(&LAST_NAMES);
        let customer = PdCustomer {
            id: self.id("ctm"),
            name: format!("{first} {last}"),
            email: format!("{}.{}{n}@example.com", first.to_lowercase(), last.to_lowercase()),
            created_at: t,
        };
        let customer_id = customer.id.clone();
        self.ledger.customers.push(customer);
        let data = api::customer_json(&self.ledger.customers[n]);
        self.emit(t, "customer.created", data);
        let price = self.ledger.prices[price].clone();
        let subscription_id = price.interval.as_ref().map(|_| self.id("sub"));
        let months = if price.interval.as_deref() == Some("year") { 12 } else { 1 };
        // One subscription in three checks out with a discount; which one is drawn
        // from the subscription's id, so the rest of the history stays as it was.
        let discount = subscription_id.as_deref().and_then(|id| {
            let draw = hash_str(id) % 9;
            (draw < 3).then(|| self.ledger.discounts[draw as usize].clone())
        });
        // A trial: the checkout bills nothing for the trial period, and the discount
        // starts with the first paid period.
        let trial = subscription_id
            .as_deref()
            .is_some_and(|id| (hash_str(id) / 9) % 5 == 0);
        let subtotal = if trial { 0 } else { price.unit_price };
        let off = discount.as_ref().filter(|_| !trial).map_or(0, |d| d.off(subtotal));
        let first_end = if trial { t + TRIAL } else { add_months(t, months) };
        let ti = self.ledger.transactions.len();
        let transaction = PdTransaction {
            id: self.id("txn"),
            customer_id: customer_id.clone(),
            subscription_id: subscription_id.clone(),
            origin: "web".into(),
            status: "completed".into(),
            currency: self.ledger.currency.clone(),
            subtotal,
            discount: off,
            discount_id: discount.as_ref().filter(|_| !trial).map(|d| d.id.clone()),
            total: subtotal - off,
            billing_period: subscription_id.as_ref().map(|_| (t, first_end)),
            price_id: price.id.clone(),
            campaign: campaign.clone(),
            billed_at: t,
            updated_at: t,
        };
        self.ledger.transactions.push(transaction);
        self.emit_transaction(ti, t);
        if let Some(id) = subscription_id {
            let si = self.ledger.subscriptions.len();
            let end = first_end;
            let paid_from = if trial { end } else { t };
            self.ledger.subscriptions.push(PdSubscription {
                id,
                customer_id,
                price_id: price.id.clone(),
                quantity: 1,
                status: if trial { "trialing" } else { "active" }.into(),
                created_at: t,
                period_start: t,
                period_end: end,
                periods_billed: u32::from(!trial),
                trial_end: trial.then_some(end),
                discount: discount.map(|d| PdSubscriptionDiscount {
                    id: d.id,
                    starts_at: paid_from,
                    ends_at: d.periods.map(|n| add_months(paid_from, months * n)),
                }),
                cancel_at: None,
                canceled_at: None,
                updated_at: t,
                campaign,
            });
            self.emit_subscription(si, t, "subscription.created");
            self.agenda.push(end, Task::Renew(si));
            self.maybe_cancel(si, t, end);
        } else if self.rng.chance(0.06) {
            let at = t + self.rng.range(DAY, 10 * DAY);
            self.agenda.push(at, Task::Refund(ti));
        }
        ti
    }

    fn maybe_cancel(&mut self, si: usize, start: i64, end: i64) {
        if self.rng.chance(0.08) {
            let at = start + ((end - start) as f64 * self.rng.uniform(0.1, 0.9)) as i64;
            self.agenda.push(at, Task::Cancel(si));
        }
    }

    fn renew(&mut self, si: usize, t: i64) {
        let sub = &self.ledger.subscriptions[si];
        if !matches!(sub.status.as_str(), "active" | "trialing") {
            return;
        }
        if sub.cancel_at.is_some() {
            let sub = &mut self.ledger.subscriptions[si];
            sub.status = "canceled".into();
            sub.canceled_at = Some(t);
            sub.updated_at = t;
            self.emit_subscription(si, t, "subscription.canceled");
            return;
        }
        let price = self
            .ledger
            .prices
            .iter()
            .find(|p| p.id == sub.price_id)
            .cloned()
            .expect("a subscription's price exists");
        let (customer_id, sub_id, campaign) =
            (sub.customer_id.clone(), sub.id.clone(), sub.campaign.clone());
        // The discount while the subscription has periods of it left.
        let discount = sub
            .discount
            .as_ref()
            .and_then(|d| self.ledger.discounts.iter().find(|x| x.id == d.id))
            .filter(|d| d.periods.is_none_or(|n| sub.periods_billed < n))
            .cloned();
        let off = discount.as_ref().map_or(0, |d| d.off(price.unit_price));
        let months = if price.interval.as_deref() == Some("year") { 12 } else { 1 };
        let end = add_months(t, months);
        let ti = self.ledger.transactions.len();
        let transaction = PdTransaction {
            id: self.id("txn"),
            customer_id,
            subscription_id: Some(sub_id),
            origin: "subscription_recurring".into(),
            status: "completed".into(),
            currency: self.ledger.currency.clone(),
            subtotal: price.unit_price,
            discount: off,
            discount_id: discount.map(|d| d.id),
            total: price.unit_price - off,
            billing_period: Some((t, end)),
            price_id: price.id,
            campaign,
            billed_at: t,
            updated_at: t,
        };
        self.ledger.transactions.push(transaction);
        let sub = &mut self.ledger.subscriptions[si];
        sub.period_start = t;
        sub.period_end = end;
        sub.periods_billed += 1;
        sub.status = "active".into();
        sub.updated_at = t;
        self.emit_transaction(ti, t);
        self.emit_subscription(si, t, "subscription.updated");
        self.agenda.push(end, Task::Renew(si));
        self.maybe_cancel(si, t, end);
    }

    fn refund(&mut self, ti: usize, amount: i64, t: i64) {
        let id = self.id("adj");
        let transaction = &self.ledger.transactions[ti];
        let refunded: i64 = self
            .ledger
            .adjustments
            .iter()
            .filter(|a| a.transaction_id == transaction.id)
            .map(|a| a.total)
            .sum();
        let amount = amount.min(transaction.total - refunded);
        if amount <= 0 {
            return;
        }
        let adjustment = PdAdjustment {
            id,
            transaction_id: transaction.id.clone(),
            customer_id: transaction.customer_id.clone(),
            action: "refund".into(),
            status: "approved".into(),
            currency: transaction.currency.clone(),
            total: amount,
            created_at: t,
        };
        let ai = self.ledger.adjustments.len();
        self.ledger.adjustments.push(adjustment);
        let data = api::adjustment_json(&self.ledger.adjustments[ai]);
        self.emit(t, "adjustment.created", data);
    }

    /// A one-off purchase now (at the clock) of the price with this id.
    pub fn purchase_now(&mut self, price_id: &str, campaign: Option<&str>) -> Option<String> {
        let price = self.ledger.prices.iter().position(|p| p.id == price_id)?;
        let ti = self.purchase(self.ledger.end, price, campaign.map(str::to_owned));
        Some(self.ledger.transactions[ti].id.clone())
    }

    /// Refunds `amount` of a transaction now (an approved refund adjustment).
    pub fn refund_now(&mut self, transaction_id: &str, amount: i64) -> Option<String> {
        let ti = self
            .ledger
            .transactions
            .iter()
            .position(|t| t.id == transaction_id)?;
        let before = self.ledger.adjustments.len();
        self.refund(ti, amount, self.ledger.end);
        self.ledger.adjustments.get(before).map(|a| a.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepwise_advance_equals_one_advance_and_the_seller_is_coherent() {
        let start = 1_700_000_000 - 200 * DAY;
        let mut once = PaddleGen::new(3, start, 1_700_000_000, 8.0);
        once.advance(1_700_000_000);
        let mut steps = PaddleGen::new(3, start, 1_700_000_000, 8.0);
        for end in [start + 50 * DAY, start + 120 * DAY + 17, 1_700_000_000] {
            steps.advance(end);
        }
        assert!(once.ledger == steps.ledger);
        let ledger = &once.ledger;
        assert!(ledger.transactions.len() > 800, "{}", ledger.transactions.len());
        assert!(ledger.subscriptions.iter().any(|s| s.status == "canceled"));
        assert!(ledger.subscriptions.iter().any(|s| s.status == "active" && s.cancel_at.is_some()));
        assert!(ledger.adjustments.iter().any(|a| {
            ledger.transactions.iter().any(|t| t.id == a.transaction_id && t.total > a.total)
        }));
        assert!(ledger.transactions.iter().any(|t| t.origin == "subscription_recurring"));
        // Discounts: renewals still discounted, and some no longer (LAUNCH20 after
        // three periods, WELCOME5 after one).
        let renewals = || ledger.transactions.iter().filter(|t| t.origin == "subscription_recurring");
        assert!(renewals().any(|t| t.discount > 0));
        assert!(renewals().any(|t| t.discount == 0 && {
            let sub = ledger.subscriptions.iter().find(|s| Some(&s.id) == t.subscription_id.as_ref());
            sub.is_some_and(|s| s.discount.is_some())
        }));
        assert!(ledger.transactions.iter().all(|t| t.total == t.subtotal - t.discount));
        // Trials: some converted, some canceled before paying.
        let trials = || ledger.subscriptions.iter().filter(|s| s.trial_end.is_some());
        assert!(trials().any(|s| s.periods_billed > 0));
        assert!(trials().any(|s| s.status == "canceled" && s.periods_billed == 0));
        assert!(ledger.events.first().unwrap().occurred_at >= 1_700_000_000 - EVENT_RETENTION);
        let mut ids: Vec<&str> = ledger.events.iter().map(|e| e.event_id.as_str()).collect();
        let sorted = ids.clone();
        ids.sort_unstable();
        assert_eq!(ids, sorted, "event ids sort by creation");
        assert!(once.outbox.is_empty());
    }
}
