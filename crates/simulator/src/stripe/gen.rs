//! Generates the simulated Stripe account: a SaaS whose customers sign up over
//! time, mostly subscribe to one of a few prices (some after a free trial, some
//! with a coupon), renew (invoice + charge per period), sometimes fail to pay
//! (retries, then cancellation), change plan or seats at a renewal, cancel at
//! period end (and some come back months later), buy one-off extras and get refunds.
//!
//! Everything is driven by one [`Rng`] stream and an [`Agenda`] processed in
//! time order, so the same seed and configuration give the same account, and
//! advancing the clock in steps gives the same data as advancing at once.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::ledger::*;
use crate::common::{
    agenda::Agenda,
    money::scale,
    rng::{hash_str, mix, Rng},
    season::Season,
    time::{add_months, DAY, HOUR},
    SimError,
};

/// A SaaS: quieter weekends, a mild year-end bump.
const SAAS: Season = Season {
    weekend: 0.55,
    months: [
        0.95, 0.92, 0.98, 0.98, 1.0, 0.96, 0.94, 0.96, 1.02, 1.05, 1.12, 1.12,
    ],
    bfcm: 1.3,
    growth_per_year: 1.6,
};

/// How long Stripe keeps events.
pub(crate) const EVENT_RETENTION: i64 = 30 * DAY;

/// Fixed inputs of one account's generation.
#[derive(Debug, Clone)]
pub(crate) struct StripeParams {
    pub seed: u64,
    pub account_id: String,
    pub currency: String,
    pub livemode: bool,
    pub start: i64,
    /// Where growth is 1 (the configured `end`).
    pub anchor: i64,
    pub daily_signups: f64,
}

/// The catalogue: (id, nickname, product, US cents, interval, count, weight).
const PLANS: [(&str, &str, &str, i64, Interval, u32, f64); 5] = [
    (
        "price_1SimStarterMonthly",
        "Starter monthly",
        "prod_SimStarter",
        2900,
        Interval::Month,
        1,
        0.42,
    ),
    (
        "price_1SimProMonthly",
        "Pro monthly",
        "prod_SimPro",
        9900,
        Interval::Month,
        1,
        0.25,
    ),
    (
        "price_1SimProQuarterly",
        "Pro quarterly",
        "prod_SimPro",
        27900,
        Interval::Month,
        3,
        0.10,
    ),
    (
        "price_1SimStarterYearly",
        "Starter yearly",
        "prod_SimStarter",
        29000,
        Interval::Year,
        1,
        0.08,
    ),
    (
        "price_1SimProYearly",
        "Pro yearly",
        "prod_SimPro",
        99000,
        Interval::Year,
        1,
        0.15,
    ),
];

/// Where a plan change from each plan goes: (upgrade, downgrade).
const PLAN_MOVES: [(usize, usize); 5] = [(1, 0), (4, 0), (4, 1), (4, 3), (4, 3)];

/// The coupons: (code, name, percent off, US cents off, duration, weight).
type CouponRow = (&'static str, &'static str, Option<i64>, Option<i64>, CouponDuration, f64);
const COUPONS: [CouponRow; 4] = [
    ("LAUNCH20", "Launch: 20 % off forever", Some(20), None, CouponDuration::Forever, 0.3),
    ("HALFOFF3", "Half off for 3 months", Some(50), None, CouponDuration::Repeating(3), 0.3),
    ("WELCOME10", "$10 off the first invoice", None, Some(1000), CouponDuration::Once, 0.25),
    // Four months: on a quarterly plan it ends in the middle of the second period.
    ("SPRING15", "15 % off for 4 months", Some(15), None, CouponDuration::Repeating(4), 0.15),
];
/// Share of new subscriptions that start with a free trial (and then no coupon).
const TRIAL_CHANCE: f64 = 0.2;
const TRIAL_DAYS: i64 = 14;
/// Share of trials cancelled before they end (they end at the trial's end, unpaid).
const TRIAL_CANCEL_CHANCE: f64 = 0.35;
/// Share of the other new subscriptions that use a coupon.
const COUPON_CHANCE: f64 = 0.25;
/// Share of subscribers who cancelled that subscribe again 20–120 days later.
const RETURN_CHANCE: f64 = 0.15;
/// Share of monthly subscriptions that also pay for API calls (metered, in arrears).
const METERED_CHANCE: f64 = 0.25;
/// US cents per thousand API calls.
const METERED_CENTS: i64 = 50;
/// Chance, per paid period, of adding a seat in the middle of it (prorated).
const MID_PERIOD_UPGRADE_CHANCE: f64 = 0.04;
/// Chance, per renewal, that the subscriber pauses collection for the coming period
/// (its invoice is voided; billing resumes at the next renewal).
const PAUSE_CHANCE: f64 = 0.02;

const SEATS: [u32; 5] = [1, 2, 3, 4, 5];
const SEAT_WEIGHTS: [f64; 5] = [0.55, 0.2, 0.12, 0.08, 0.05];

/// Chance that a subscriber decides to cancel during one period, by months per period.
fn churn_chance(months: u32) -> f64 {
    match months {
        1 => 0.035,
        2..=6 => 0.08,
        _ => 0.22,
    }
}

const RENEWAL_SUCCESS: f64 = 0.93;
const RETRY_SUCCESS: f64 = 0.55;
/// Days until the next retry after attempt 1, 2, 3; attempt 4 failing cancels.
const RETRY_DAYS: [i64; 3] = [3, 5, 7];

const FIRST_NAMES: [&str; 20] = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kira",
    "Luca", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
];
const LAST_NAMES: [&str; 20] = [
    "Adams", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
    "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Quist", "Rossi", "Silva",
    "Tanaka",
];
const ONE_OFFS: [&str; 3] = ["Onboarding package", "Consulting hour", "Data import"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Task {
    /// Expand the hour starting here into signups.
    Hour,
    Signup,
    /// A customer who cancelled subscribes again.
    Resubscribe(usize),
    OneOff(usize),
    Renew(usize),
    RequestCancel(usize),
    /// A seat added mid-period, prorated on the next invoice.
    AddSeat(usize),
    Pay(usize),
    Refund(usize),
}

/// Generator state plus the ledger it builds.
#[derive(Debug)]
pub(crate) struct StripeGen {
    p: StripeParams,
    rng: Rng,
    agenda: Agenda<Task>,
    mint: Mint,
    pub ledger: StripeLedger,
    /// Index of the plan in force per subscription.
    plan_of: Vec<usize>,
    /// Months from the billing anchor to each subscription's current period end.
    months_of: Vec<u32>,
    /// Each subscription's billing anchor: its start, or its trial's end.
    anchor_of: Vec<i64>,
    /// Each subscription's customer (an index into the customers).
    customer_of: Vec<usize>,
    /// Per subscription, the proration lines its next invoice carries and the seats
    /// it renews with after a mid-period change.
    pending: HashMap<usize, (Vec<InvoiceLine>, u32)>,
    /// Subscription index per invoice.
    invoice_sub: Vec<usize>,
    pub charge_index: HashMap<String, usize>,
    /// Events older than this are not rendered (Stripe would not return them).
    retain_from: i64,
    /// Cached list orders by endpoint path, dropped on every change.
    pub views: HashMap<&'static str, ListView>,
    /// Mutations made through the handle, to seed their own choices.
    mutations: u64,
    /// Charges hidden or altered in what the sync reads (`/_sim/stripe/charges/{id}/hide|alter`).
    pub tamper: super::balance::Tamper,
}

impl StripeGen {
    pub fn new(p: StripeParams) -> Self {
        let rng = Rng::new(mix(p.seed ^ hash_str("stripe")));
        let mint = Mint::new(p.seed ^ hash_str(&p.account_id));
        let created = p.start - 30 * DAY;
        let prices = PLANS
            .iter()
            .map(
                |(id, nickname, product, cents, interval, count, _)| StripePrice {
                    id: (*id).into(),
                    product: (*product).into(),
                    nickname: (*nickname).into(),
                    unit_amount: scale(*cents, &p.currency),
                    currency: p.currency.clone(),
                    interval: *interval,
                    interval_count: *count,
                    created,
                },
            )
            .chain(std::iter::once(StripePrice {
                id: METERED_PRICE.into(),
                product: "prod_SimApiCalls".into(),
                nickname: "API calls (per 1,000)".into(),
                unit_amount: scale(METERED_CENTS, &p.currency),
                currency: p.currency.clone(),
                interval: Interval::Month,
                interval_count: 1,
                created,
            }))
            .collect();
        let ledger = StripeLedger {
            account_id: p.account_id.clone(),
            currency: p.currency.clone(),
            livemode: p.livemode,
            start: p.start,
            end: p.start,
            prices,
            coupons: COUPONS
                .iter()
                .map(|(id, name, percent, cents, duration, _)| StripeCoupon {
                    id: (*id).into(),
                    name: (*name).into(),
                    percent_off: *percent,
                    amount_off: cents.map(|c| scale(c, &p.currency)),
                    duration: *duration,
                    created,
                })
                .collect(),
            customers: Vec::new(),
            subscriptions: Vec::new(),
            invoices: Vec::new(),
            charges: Vec::new(),
            refunds: Vec::new(),
            events: Vec::new(),
        };
        let mut agenda = Agenda::default();
        agenda.push(p.start.div_euclid(HOUR) * HOUR, Task::Hour);
        Self {
            p,
            rng,
            agenda,
            mint,
            ledger,
            plan_of: Vec::new(),
            months_of: Vec::new(),
            anchor_of: Vec::new(),
            customer_of: Vec::new(),
            pending: HashMap::new(),
            invoice_sub: Vec::new(),
            charge_index: HashMap::new(),
            retain_from: i64::MIN,
            views: HashMap::new(),
            mutations: 0,
            tamper: Default::default(),
        }
    }

    /// Runs everything due before `end` and moves the data clock there.
    pub fn advance(&mut self, end: i64) {
        if end <= self.ledger.end {
            return;
        }
        self.retain_from = end - EVENT_RETENTION;
        while let Some((at, task)) = self.agenda.pop_before(end) {
            self.run(at, task);
        }
        self.ledger.end = end;
        let keep_from = self.retain_from;
        self.ledger.events.retain(|e| e.created >= keep_from);
        self.views.clear();
    }

    fn run(&mut self, at: i64, task: Task) {
        match task {
            Task::Hour => {
                let rate = SAAS.hourly_rate(self.p.daily_signups, at, self.p.anchor);
                for _ in 0..self.rng.poisson(rate) {
                    let when = at + self.rng.range(0, HOUR);
                    if when >= self.p.start {
                        self.agenda.push(when, Task::Signup);
                    }
                }
                self.agenda.push(at + HOUR, Task::Hour);
            }
            Task::Signup => self.signup(at),
            Task::Resubscribe(customer) => self.subscribe(customer, at, true),
            Task::OneOff(customer) => self.one_off(customer, at),
            Task::Renew(sub) => self.renew(sub, at),
            Task::RequestCancel(sub) => self.request_cancel(sub, at),
            Task::AddSeat(sub) => self.add_seat(sub, at),
            Task::Pay(invoice) => self.pay(invoice, at),
            Task::Refund(charge) => {
                let c = &self.ledger.charges[charge];
                let remaining = c.amount - c.amount_refunded;
                if remaining <= 0 {
                    return;
                }
                let amount = if self.rng.chance(0.6) {
                    remaining
                } else {
                    let part = (c.amount as f64 * self.rng.uniform(0.2, 0.7)) as i64;
                    (part / 100 * 100).clamp(1, remaining)
                };
                self.apply_refund(charge, amount, at);
            }
        }
    }

    fn signup(&mut self, t: i64) {
        let n = self.ledger.customers.len();
        let first = *self.rng.pick(&FIRST_NAMES);
        let last = *self.rng.pick(&LAST_NAMES);
        let customer = StripeCustomer {
            id: self.mint.id("cus"),
            created: t,
            email: format!(
                "{}.{}{n}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            name: format!("{first} {last}"),
        };
        self.ledger.customers.push(customer);
        self.emit(t, "customer.created", None, |l| {
            l.customer_json(&l.customers[n])
        });
        if self.rng.chance(0.8) {
            self.subscribe(n, t, false);
            if self.rng.chance(0.05) {
                let at = t + self.rng.range(HOUR, 30 * DAY);
                self.agenda.push(at, Task::OneOff(n));
            }
        } else if self.rng.chance(0.35) {
            let at = t + self.rng.range(600, 14 * DAY);
            self.agenda.push(at, Task::OneOff(n));
        }
    }

    /// A new subscription for `customer`: a first one (perhaps with a free trial),
    /// or one `returning` after an earlier one ended (never a trial).
    fn subscribe(&mut self, customer: usize, t: i64, returning: bool) {
        let weights: Vec<f64> = PLANS.iter().map(|plan| plan.6).collect();
        let plan = self.rng.weighted(&weights);
        let quantity = SEATS[self.rng.weighted(&SEAT_WEIGHTS)];
        let months = self.plan_months(plan);
        let trial = !returning && self.rng.chance(TRIAL_CHANCE);
        let coupon = (!trial && self.rng.chance(COUPON_CHANCE)).then(|| {
            let weights: Vec<f64> = COUPONS.iter().map(|c| c.5).collect();
            self.rng.weighted(&weights)
        });
        let (end, anchor, months) = if trial {
            let trial_end = t + TRIAL_DAYS * DAY;
            (trial_end, trial_end, 0)
        } else {
            (add_months(t, months), t, months)
        };
        let discount = coupon.map(|c| SubscriptionDiscount {
            id: self.mint.id("di"),
            coupon: COUPONS[c].0.into(),
            start: t,
            end: match COUPONS[c].4 {
                CouponDuration::Repeating(months) => Some(add_months(t, months)),
                CouponDuration::Once | CouponDuration::Forever => None,
            },
        });
        let monthly = PLANS[plan].4 == Interval::Month && PLANS[plan].5 == 1;
        let metered_item = (monthly && self.rng.chance(METERED_CHANCE)).then(|| self.mint.id("si"));
        let si = self.ledger.subscriptions.len();
        let subscription = StripeSubscription {
            id: self.mint.id("sub"),
            customer: self.ledger.customers[customer].id.clone(),
            item_id: self.mint.id("si"),
            created: t,
            start_date: t,
            status: if trial {
                SubscriptionStatus::Trialing
            } else {
                SubscriptionStatus::Active
            },
            cancel_at_period_end: false,
            canceled_at: None,
            ended_at: None,
            current_period_start: t,
            current_period_end: end,
            currency: self.p.currency.clone(),
            latest_invoice: None,
            trial_start: trial.then_some(t),
            trial_end: trial.then_some(end),
            metered_item,
            paused_until: None,
            discount,
            periods: Vec::new(),
            updated: t,
        };
        self.ledger.subscriptions.push(subscription);
        self.plan_of.push(plan);
        self.months_of.push(months);
        self.anchor_of.push(anchor);
        self.customer_of.push(customer);
        let invoice =
            self.open_period(si, plan, quantity, (t, end, trial, false), "subscription_create", (t, t));
        self.emit_subscription(si, t, "customer.subscription.created", None);
        self.emit_invoice(invoice, t, "invoice.created");
        self.attempt(invoice, t, true);
        self.agenda.push(end, Task::Renew(si));
        if !trial {
            self.maybe_churn(si, t, end);
            self.maybe_add_seat(si, t, end);
        } else if self.rng.chance(TRIAL_CANCEL_CHANCE) {
            let at = t + ((end - t) as f64 * self.rng.uniform(0.1, 0.9)) as i64;
            self.agenda.push(at, Task::RequestCancel(si));
        }
    }

    /// Adds a period (`start`, `end`, whether it is a free trial) to subscription
    /// `si` and the invoice billing it, less the subscription's coupon while it
    /// applies; returns the invoice index.
    fn open_period(
        &mut self,
        si: usize,
        plan: usize,
        quantity: u32,
        (start, end, trial, paused): (i64, i64, bool, bool),
        reason: &str,
        (period_start, period_end): (i64, i64),
    ) -> usize {
        let price = self.ledger.prices[plan].clone();
        let sub_id = self.ledger.subscriptions[si].id.clone();
        let customer = self.ledger.subscriptions[si].customer.clone();
        let amount = if trial {
            0
        } else {
            price.unit_amount * i64::from(quantity)
        };
        // A repeating coupon discounts the invoices created before its end (its
        // discount stays on the subscription, ended, as the record of it).
        let applied = self.ledger.subscriptions[si]
            .discount
            .clone()
            .filter(|d| d.end.is_none_or(|coupon_end| start < coupon_end))
            .and_then(|d| self.ledger.coupon(&d.coupon).cloned().map(|c| (d, c)));
        let discount = applied
            .as_ref()
            .map(|(d, coupon)| (d.id.clone(), coupon.discount_of(amount)))
            .filter(|(_, off)| *off > 0);
        // A once coupon is spent by the invoice it discounted.
        if discount.is_some()
            && applied
                .as_ref()
                .is_some_and(|(_, c)| c.duration == CouponDuration::Once)
        {
            self.ledger.subscriptions[si].discount = None;
        }
        let off = discount.as_ref().map_or(0, |(_, off)| *off);
        let ii = self.ledger.invoices.len();
        let invoice = StripeInvoice {
            id: self.mint.id("in"),
            customer,
            subscription: Some(sub_id.clone()),
            created: start,
            billing_reason: reason.into(),
            period_start,
            period_end,
            status: InvoiceStatus::Open,
            subtotal: amount,
            discount: discount.clone(),
            amount_due: amount - off,
            amount_paid: 0,
            attempt_count: 0,
            charge: None,
            charges: Vec::new(),
            paid_at: None,
            next_payment_attempt: None,
            currency: self.p.currency.clone(),
            lines: vec![InvoiceLine {
                id: self.mint.id("il"),
                amount,
                discount,
                trial,
                kind: LineKind::Subscription,
                quantity,
                price: price.id.clone(),
                unit_amount: price.unit_amount,
                interval: price.interval,
                interval_count: price.interval_count,
                period_start: start,
                period_end: end,
                subscription: sub_id,
            }],
            updated: start,
        };
        let invoice_id = invoice.id.clone();
        self.ledger.invoices.push(invoice);
        self.invoice_sub.push(si);
        let sub = &mut self.ledger.subscriptions[si];
        sub.periods.push(SubscriptionPeriod {
            start,
            end,
            price: price.id,
            unit_amount: price.unit_amount,
            interval: price.interval,
            interval_count: price.interval_count,
            quantity,
            invoice: invoice_id.clone(),
            trial,
            discount: off,
            paused,
        });
        sub.current_period_start = start;
        sub.current_period_end = end;
        sub.latest_invoice = Some(invoice_id);
        sub.updated = start;
        ii
    }

    fn plan_months(&self, plan: usize) -> u32 {
        let price = &self.ledger.prices[plan];
        price.interval.months(price.interval_count)
    }

    fn maybe_churn(&mut self, si: usize, start: i64, end: i64) {
        let months = self.plan_months(self.plan_of[si]);
        if self.rng.chance(churn_chance(months)) {
            let at = start + ((end - start) as f64 * self.rng.uniform(0.1, 0.9)) as i64;
            self.agenda.push(at, Task::RequestCancel(si));
        }
    }

    fn renew(&mut self, si: usize, t: i64) {
        let sub = &self.ledger.subscriptions[si];
        if sub.status == SubscriptionStatus::Canceled {
            return;
        }
        if sub.cancel_at_period_end {
            let previous = json!({ "status": sub.status.as_str(), "ended_at": null });
            let paid = sub.periods.iter().any(|p| !p.trial);
            let sub = &mut self.ledger.subscriptions[si];
            sub.status = SubscriptionStatus::Canceled;
            sub.ended_at = Some(t);
            sub.updated = t;
            self.emit_subscription(si, t, "customer.subscription.deleted", Some(previous));
            if paid && self.rng.chance(RETURN_CHANCE) {
                let at = t + self.rng.range(20 * DAY, 120 * DAY);
                self.agenda.push(at, Task::Resubscribe(self.customer_of[si]));
            }
            return;
        }
        let old_items = self
            .records(t)
            .then(|| self.ledger.subscription_items_json(sub));
        let mut previous = json!({
            "current_period_start": sub.current_period_start,
            "current_period_end": sub.current_period_end,
            "latest_invoice": sub.latest_invoice,
        });
        let last = (sub.current_period_start, sub.current_period_end);
        let anchor = self.anchor_of[si];
        if sub.status == SubscriptionStatus::Trialing {
            previous["status"] = json!("trialing");
        }
        let mut plan = self.plan_of[si];
        // Seats added mid-period renew with the seats they brought.
        let mut quantity = self
            .pending
            .get(&si)
            .map_or(sub.current().quantity, |(_, seats)| *seats);
        let last_was_trial = sub.current().trial;
        if self.rng.chance(0.05) {
            let old_quantity = quantity;
            if self.rng.chance(0.5) {
                quantity = if self.rng.chance(0.7) {
                    (quantity + 1).min(20)
                } else {
                    quantity.saturating_sub(1).max(1)
                };
            } else {
                let (up, down) = PLAN_MOVES[plan];
                plan = if self.rng.chance(0.7) { up } else { down };
            }
            previous["items"] = old_items.unwrap_or(Value::Null);
            previous["quantity"] = json!(old_quantity);
        }
        let months = self.months_of[si] + self.plan_months(plan);
        let end = add_months(anchor, months);
        self.plan_of[si] = plan;
        self.months_of[si] = months;
        let sub = &mut self.ledger.subscriptions[si];
        if sub.status == SubscriptionStatus::Trialing {
            sub.status = SubscriptionStatus::Active;
        }
        // Pausing collection (never right after a trial or twice in a row).
        let paused = !last_was_trial
            && self.ledger.subscriptions[si].paused_until.is_none()
            && self.rng.chance(PAUSE_CHANCE);
        let sub = &mut self.ledger.subscriptions[si];
        if sub.paused_until.is_some() {
            previous["pause_collection"] = json!({ "behavior": "void", "resumes_at": sub.paused_until });
        }
        sub.paused_until = paused.then_some(end);
        let invoice = self.open_period(
            si,
            plan,
            quantity,
            (t, end, false, paused),
            "subscription_cycle",
            last,
        );
        if !paused {
            // Prorations and usage wait for the first invoice after a pause.
            self.bill_extras(invoice, si, last, last_was_trial);
        }
        self.emit_subscription(si, t, "customer.subscription.updated", Some(previous));
        self.emit_invoice(invoice, t, "invoice.created");
        if paused {
            // Collection paused with `behavior: void`: the invoice is voided, nothing charged.
            let void = &mut self.ledger.invoices[invoice];
            void.status = InvoiceStatus::Void;
            self.emit_invoice(invoice, t, "invoice.voided");
        } else {
            // Stripe finalises and charges renewal invoices about an hour later.
            self.agenda.push(t + HOUR, Task::Pay(invoice));
        }
        self.agenda.push(end, Task::Renew(si));
        self.maybe_churn(si, t, end);
        self.maybe_add_seat(si, t, end);
    }

    fn maybe_add_seat(&mut self, si: usize, start: i64, end: i64) {
        if self.rng.chance(MID_PERIOD_UPGRADE_CHANCE) {
            let at = start + ((end - start) as f64 * self.rng.uniform(0.1, 0.9)) as i64;
            self.agenda.push(at, Task::AddSeat(si));
        }
    }

    /// A seat added in the middle of the current period, as Stripe prorates it by
    /// default: the next invoice credits the unused time at the old seats and charges
    /// the rest of the period at the new ones (proration lines), then bills the new
    /// seats from the next period on.
    fn add_seat(&mut self, si: usize, t: i64) {
        let sub = &self.ledger.subscriptions[si];
        let period = sub.current().clone();
        if sub.status != SubscriptionStatus::Active
            || sub.cancel_at_period_end
            || period.trial
            || period.paused
            || !(period.start < t && t < period.end)
        {
            return;
        }
        let sub_id = sub.id.clone();
        let seats = self.pending.get(&si).map_or(period.quantity, |(_, q)| *q);
        let new_seats = (seats + 1).min(20);
        if new_seats == seats {
            return;
        }
        let remaining = (period.end - t) as f64 / (period.end - period.start) as f64;
        let part = |q: u32| (period.unit_amount as f64 * f64::from(q) * remaining).round() as i64;
        let mut line = |amount: i64, quantity: u32| InvoiceLine {
            id: self.mint.id("il"),
            amount,
            discount: None,
            trial: false,
            kind: LineKind::Proration,
            quantity,
            price: period.price.clone(),
            unit_amount: period.unit_amount,
            interval: period.interval,
            interval_count: period.interval_count,
            period_start: t,
            period_end: period.end,
            subscription: sub_id.clone(),
        };
        let lines = [line(-part(seats), seats), line(part(new_seats), new_seats)];
        let entry = self.pending.entry(si).or_insert((Vec::new(), seats));
        entry.0.extend(lines);
        entry.1 = new_seats;
        self.ledger.subscriptions[si].updated = t;
        let previous = json!({ "quantity": seats });
        self.emit_subscription(si, t, "customer.subscription.updated", Some(previous));
    }

    /// Adds to a renewal's invoice the prorations of seats added during the last
    /// period and the metered usage of that period (none after a trial).
    fn bill_extras(&mut self, ii: usize, si: usize, (start, end): (i64, i64), after_trial: bool) {
        let mut extra = self.pending.remove(&si).map(|(lines, _)| lines).unwrap_or_default();
        if self.ledger.subscriptions[si].metered_item.is_some() && !after_trial {
            let thousands = self.rng.range(0, 40);
            let unit = self.ledger.price(METERED_PRICE).map_or(0, |p| p.unit_amount);
            extra.push(InvoiceLine {
                id: self.mint.id("il"),
                amount: thousands * unit,
                discount: None,
                trial: false,
                kind: LineKind::Metered,
                quantity: thousands as u32,
                price: METERED_PRICE.into(),
                unit_amount: unit,
                interval: Interval::Month,
                interval_count: 1,
                period_start: start,
                period_end: end,
                subscription: self.ledger.subscriptions[si].id.clone(),
            });
        }
        let added: i64 = extra.iter().map(|l| l.amount).sum();
        let invoice = &mut self.ledger.invoices[ii];
        invoice.subtotal += added;
        invoice.amount_due += added;
        invoice.lines.extend(extra);
    }

    fn request_cancel(&mut self, si: usize, t: i64) {
        let sub = &mut self.ledger.subscriptions[si];
        if sub.status == SubscriptionStatus::Canceled || sub.cancel_at_period_end {
            return;
        }
        sub.cancel_at_period_end = true;
        sub.canceled_at = Some(t);
        sub.updated = t;
        let previous =
            json!({ "cancel_at_period_end": false, "cancel_at": null, "canceled_at": null });
        self.emit_subscription(si, t, "customer.subscription.updated", Some(previous));
    }

    fn pay(&mut self, ii: usize, t: i64) {
        let sub = &self.ledger.subscriptions[self.invoice_sub[ii]];
        if self.ledger.invoices[ii].status == InvoiceStatus::Paid
            || sub.status == SubscriptionStatus::Canceled
        {
            return;
        }
        self.attempt(ii, t, false);
    }

    /// One payment attempt on invoice `ii`; the first invoice of a
    /// subscription always succeeds (no `incomplete` subscriptions).
    fn attempt(&mut self, ii: usize, t: i64, first: bool) {
        if self.ledger.invoices[ii].amount_due == 0 {
            // Stripe marks an invoice of nothing paid, without a charge (a trial's).
            let invoice = &mut self.ledger.invoices[ii];
            invoice.status = InvoiceStatus::Paid;
            invoice.paid_at = Some(t);
            invoice.updated = t;
            self.emit_invoice(ii, t, "invoice.paid");
            return;
        }
        let retry = self.ledger.invoices[ii].attempt_count > 0;
        let success = first
            || self.rng.chance(if retry {
                RETRY_SUCCESS
            } else {
                RENEWAL_SUCCESS
            });
        let invoice = &self.ledger.invoices[ii];
        let (customer, amount, invoice_id) = (
            invoice.customer.clone(),
            invoice.amount_due,
            invoice.id.clone(),
        );
        let description = format!("Subscription {}", if first { "creation" } else { "update" });
        let ci = self.new_charge(customer, Some(invoice_id), amount, success, description, t);
        let charge_id = self.ledger.charges[ci].id.clone();
        let si = self.invoice_sub.get(ii).copied();
        let invoice = &mut self.ledger.invoices[ii];
        invoice.attempt_count += 1;
        invoice.charge = Some(charge_id.clone());
        invoice.charges.push(charge_id);
        invoice.updated = t;
        if success {
            invoice.status = InvoiceStatus::Paid;
            invoice.amount_paid = invoice.amount_due;
            invoice.paid_at = Some(t);
            invoice.next_payment_attempt = None;
            self.emit_charge(ci, t, "charge.succeeded", None);
            self.emit_invoice(ii, t, "invoice.paid");
            if let Some(si) = si {
                let sub = &mut self.ledger.subscriptions[si];
                if sub.status == SubscriptionStatus::PastDue {
                    sub.status = SubscriptionStatus::Active;
                    sub.updated = t;
                    let previous = json!({ "status": "past_due" });
                    self.emit_subscription(si, t, "customer.subscription.updated", Some(previous));
                }
            }
            self.maybe_refund(ci, t, 0.03);
            return;
        }
        let attempts = invoice.attempt_count as usize;
        let retry_at = RETRY_DAYS.get(attempts - 1).map(|days| t + days * DAY);
        invoice.next_payment_attempt = retry_at;
        self.emit_charge(ci, t, "charge.failed", None);
        self.emit_invoice(ii, t, "invoice.payment_failed");
        if let Some(at) = retry_at {
            self.agenda.push(at, Task::Pay(ii));
        }
        let Some(si) = si else { return };
        let sub = &mut self.ledger.subscriptions[si];
        if retry_at.is_none() {
            // Out of retries: Stripe's default dunning cancels the subscription
            // and leaves the invoice open.
            let previous = json!({ "status": sub.status.as_str(), "canceled_at": sub.canceled_at, "ended_at": null });
            sub.status = SubscriptionStatus::Canceled;
            sub.cancel_at_period_end = false;
            sub.canceled_at = Some(t);
            sub.ended_at = Some(t);
            sub.updated = t;
            self.emit_subscription(si, t, "customer.subscription.deleted", Some(previous));
        } else if sub.status == SubscriptionStatus::Active {
            sub.status = SubscriptionStatus::PastDue;
            sub.updated = t;
            let previous = json!({ "status": "active" });
            self.emit_subscription(si, t, "customer.subscription.updated", Some(previous));
        }
    }

    fn one_off(&mut self, customer: usize, t: i64) {
        let cents = self.rng.range(50, 500) * 100;
        let amount = scale(cents, &self.p.currency);
        let success = self.rng.chance(0.95);
        let description = (*self.rng.pick(&ONE_OFFS)).to_owned();
        let customer = self.ledger.customers[customer].id.clone();
        let ci = self.new_charge(customer, None, amount, success, description, t);
        let kind = if success {
            "charge.succeeded"
        } else {
            "charge.failed"
        };
        self.emit_charge(ci, t, kind, None);
        if success {
            self.maybe_refund(ci, t, 0.08);
        }
    }

    fn new_charge(
        &mut self,
        customer: String,
        invoice: Option<String>,
        amount: i64,
        success: bool,
        description: String,
        t: i64,
    ) -> usize {
        let ci = self.ledger.charges.len();
        let charge = StripeCharge {
            id: self.mint.id("ch"),
            customer,
            invoice,
            created: t,
            amount,
            amount_refunded: 0,
            status: if success {
                ChargeStatus::Succeeded
            } else {
                ChargeStatus::Failed
            },
            failure_code: (!success).then(|| "card_declined".to_owned()),
            description,
            currency: self.p.currency.clone(),
            refunds: Vec::new(),
            updated: t,
        };
        self.charge_index.insert(charge.id.clone(), ci);
        self.ledger.charges.push(charge);
        ci
    }

    fn maybe_refund(&mut self, ci: usize, t: i64, chance: f64) {
        if self.rng.chance(chance) {
            let at = t + self.rng.range(DAY, 10 * DAY);
            self.agenda.push(at, Task::Refund(ci));
        }
    }

    fn apply_refund(&mut self, ci: usize, amount: i64, t: i64) -> StripeRefund {
        let charge = &self.ledger.charges[ci];
        let refund = StripeRefund {
            id: self.mint.id("re"),
            charge: charge.id.clone(),
            amount,
            created: t,
            currency: charge.currency.clone(),
            status: "succeeded".into(),
        };
        let previous = json!({
            "amount_refunded": charge.amount_refunded,
            "refunded": charge.refunded(),
        });
        let charge = &mut self.ledger.charges[ci];
        charge.amount_refunded += amount;
        charge.refunds.push(refund.id.clone());
        charge.updated = t;
        self.ledger.refunds.push(refund.clone());
        self.emit_charge(ci, t, "charge.refunded", Some(previous));
        let ri = self.ledger.refunds.len() - 1;
        self.emit(t, "refund.created", None, |l| l.refund_json(&l.refunds[ri]));
        refund
    }

    /// Refunds `amount` of a succeeded charge now (at the data clock).
    pub fn refund_charge(
        &mut self,
        charge_id: &str,
        amount: i64,
    ) -> Result<StripeRefund, SimError> {
        let ci = *self
            .charge_index
            .get(charge_id)
            .ok_or_else(|| SimError::NotFound(format!("charge {charge_id}")))?;
        let charge = &self.ledger.charges[ci];
        let remaining = charge.amount - charge.amount_refunded;
        if !charge.paid() {
            return Err(SimError::Invalid(format!(
                "charge {charge_id} did not succeed"
            )));
        }
        if amount <= 0 || amount > remaining {
            return Err(SimError::Invalid(format!(
                "refund amount {amount} must be between 1 and the unrefunded {remaining}"
            )));
        }
        self.mutations += 1;
        let refund = self.apply_refund(ci, amount, self.ledger.end);
        self.views.clear();
        Ok(refund)
    }

    /// Whether an event at `t` is recent enough to keep.
    fn records(&self, t: i64) -> bool {
        t >= self.retain_from
    }

    /// Records an event whose snapshot `render` draws from the ledger now.
    /// Every event takes an id, kept or not, so ids do not depend on the
    /// retention window in force when it happened.
    fn emit(
        &mut self,
        t: i64,
        kind: &str,
        previous: Option<Value>,
        render: impl FnOnce(&StripeLedger) -> Value,
    ) {
        let id = self.mint.id("evt");
        if !self.records(t) {
            return;
        }
        let object = render(&self.ledger);
        let object_id = object["id"].as_str().unwrap_or_default().to_owned();
        self.ledger.events.push(StripeEvent {
            id,
            kind: kind.into(),
            created: t,
            object_id,
            object,
            previous_attributes: previous,
        });
    }

    fn emit_subscription(&mut self, si: usize, t: i64, kind: &str, previous: Option<Value>) {
        self.emit(t, kind, previous, |l| {
            l.subscription_json(&l.subscriptions[si])
        });
    }

    fn emit_invoice(&mut self, ii: usize, t: i64, kind: &str) {
        self.emit(t, kind, None, |l| l.invoice_json(&l.invoices[ii]));
    }

    fn emit_charge(&mut self, ci: usize, t: i64, kind: &str, previous: Option<Value>) {
        self.emit(t, kind, previous, |l| l.charge_json(&l.charges[ci]));
    }
}

/// Newest-first order of a collection and each id's position in it.
#[derive(Debug, Default)]
pub(crate) struct ListView {
    pub order: Vec<usize>,
    pub rank: HashMap<String, usize>,
}

impl ListView {
    pub fn build<T: Listed>(items: &[T]) -> Self {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|a, b| {
            let (a, b) = (&items[*a], &items[*b]);
            (b.created(), b.id()).cmp(&(a.created(), a.id()))
        });
        let rank = order
            .iter()
            .enumerate()
            .map(|(pos, i)| (items[*i].id().to_owned(), pos))
            .collect();
        Self { order, rank }
    }
}

/// Deterministic Stripe-looking ids: a per-prefix counter pushed through a
/// bijective mix with the seed, so ids are unique, stable for a seed and look random.
#[derive(Debug)]
struct Mint {
    salt: u64,
    counters: HashMap<&'static str, u64>,
}

impl Mint {
    fn new(salt: u64) -> Self {
        Self {
            salt,
            counters: HashMap::new(),
        }
    }

    fn id(&mut self, prefix: &'static str) -> String {
        let counter = self.counters.entry(prefix).or_default();
        *counter += 1;
        let value = mix(counter.wrapping_add(mix(self.salt ^ hash_str(prefix))));
        format!("{prefix}_1Sim{}", base62(value))
    }
}

/// Exactly 11 base-62 digits (62^11 > 2^64).
fn base62(mut value: u64) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 11];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(seed: u64) -> StripeParams {
        StripeParams {
            seed,
            account_id: "acct_test".into(),
            currency: "usd".into(),
            livemode: false,
            start: 1_700_000_000 - 200 * DAY,
            anchor: 1_700_000_000,
            daily_signups: 6.0,
        }
    }

    #[test]
    fn stepwise_advance_equals_one_advance() {
        let mut once = StripeGen::new(params(5));
        once.advance(1_700_000_000);
        let mut steps = StripeGen::new(params(5));
        for end in [
            1_700_000_000 - 150 * DAY,
            1_700_000_000 - 40 * DAY + 17,
            1_700_000_000,
        ] {
            steps.advance(end);
        }
        assert!(once.ledger == steps.ledger, "stepwise generation diverged");
    }

    #[test]
    fn invoices_bill_their_period_and_charges_add_up() {
        let mut stripe = StripeGen::new(params(9));
        stripe.advance(1_700_000_000);
        let ledger = &stripe.ledger;
        assert!(
            ledger.subscriptions.len() > 500,
            "{}",
            ledger.subscriptions.len()
        );
        for sub in &ledger.subscriptions {
            for period in &sub.periods {
                let invoice = ledger
                    .invoices
                    .iter()
                    .find(|i| i.id == period.invoice)
                    .unwrap();
                if period.paused {
                    assert_eq!(invoice.status, InvoiceStatus::Void);
                    assert!(invoice.charges.is_empty());
                    continue;
                }
                let extras: i64 = invoice.lines[1..].iter().map(|l| l.amount).sum();
                assert_eq!(invoice.amount_due, period.billed() + extras);
                assert_eq!(invoice.subtotal, invoice.amount_due + period.discount);
                assert_eq!(invoice.lines[0].period_start, period.start);
            }
            if sub.status == SubscriptionStatus::Canceled {
                assert!(sub.ended_at.is_some() && sub.canceled_at.is_some());
            }
        }
        for charge in &ledger.charges {
            let refunded: i64 = ledger
                .refunds
                .iter()
                .filter(|r| r.charge == charge.id)
                .map(|r| r.amount)
                .sum();
            assert_eq!(refunded, charge.amount_refunded);
            assert!(charge.amount_refunded <= charge.amount);
        }
        assert!(ledger
            .invoices
            .iter()
            .any(|i| i.status == InvoiceStatus::Open && i.attempt_count > 0));
        assert!(ledger
            .subscriptions
            .iter()
            .any(|s| s.periods.windows(2).any(|w| w[0].price != w[1].price)));
        assert!(ledger.subscriptions.iter().any(|s| s.cancel_at_period_end));
        // Trials that converted and trials cancelled before their end.
        assert!(ledger
            .subscriptions
            .iter()
            .any(|s| s.trial_end.is_some() && s.periods.len() > 1));
        assert!(ledger
            .subscriptions
            .iter()
            .any(|s| s.trial_end.is_some() && s.ended_at == s.trial_end));
        // Amount-off and percent-off coupons discounted invoices, and a coupon stopped.
        let discounts: Vec<i64> = ledger
            .subscriptions
            .iter()
            .flat_map(|s| s.periods.iter().map(|p| p.discount))
            .collect();
        assert!(discounts.contains(&1000));
        assert!(discounts.iter().any(|d| *d > 0 && *d != 1000));
        assert!(ledger
            .subscriptions
            .iter()
            .any(|s| s.periods.first().is_some_and(|p| p.discount > 0)
                && s.periods.last().is_some_and(|p| p.discount == 0)));
        // Metered usage and prorated mid-period seats on renewal invoices.
        for kind in [LineKind::Metered, LineKind::Proration] {
            assert!(ledger.invoices.iter().any(|i| i.lines.iter().any(|l| l.kind == kind)));
        }
        // Paused periods, billed by a void invoice.
        assert!(ledger.invoices.iter().any(|i| i.status == InvoiceStatus::Void));
        // A customer who came back.
        let mut subscribed = std::collections::HashSet::new();
        assert!(ledger
            .subscriptions
            .iter()
            .any(|s| !subscribed.insert(s.customer.clone())));
        assert!(ledger.charges.iter().any(|c| c.invoice.is_none()));
        assert!(ledger.refunds.iter().any(|r| ledger
            .charges
            .iter()
            .any(|c| c.id == r.charge && c.amount > r.amount)));
    }

    #[test]
    fn ids_are_unique_and_prefixed() {
        let mut mint = Mint::new(1);
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| mint.id("ch")).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|id| id.starts_with("ch_1Sim") && id.len() == 18));
    }
}
