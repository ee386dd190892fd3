//! Generates one simulated shop: a catalogue (launches, archiving, price
//! changes), customers whose returning share grows, orders with discounts,
//! shipping, tax, channels and countries, later refunds, edits and rare
//! cancellations, and abandoned checkouts of which some are recovered.
//!
//! Like the Stripe generator: one seeded stream (the seed mixed with the shop
//! domain) and a time-ordered agenda, so data depends only on seed, config,
//! domain and the sequence of clock moves and mutations.

use std::collections::HashMap;

use super::ledger::*;
use crate::common::{
    agenda::Agenda,
    money::{currency_exponent, scale},
    rng::{hash_str, mix, Rng},
    season::Season,
    time::{black_friday, date, DAY, HOUR},
    SimError,
};

/// A consumer shop: busier weekends, a strong holiday season.
const SHOP: Season = Season {
    weekend: 1.25,
    months: [
        0.85, 0.78, 0.9, 0.95, 1.0, 0.95, 0.92, 0.98, 1.0, 1.05, 1.45, 1.55,
    ],
    bfcm: 1.9,
    growth_per_year: 1.5,
};

#[derive(Debug, Clone)]
pub(crate) struct ShopParams {
    pub seed: u64,
    pub shop: String,
    pub currency: String,
    pub start: i64,
    pub anchor: i64,
    pub daily_orders: f64,
}

const ADJECTIVES: [&str; 12] = [
    "Classic",
    "Organic",
    "Everyday",
    "Premium",
    "Vintage",
    "Eco",
    "Deluxe",
    "Mini",
    "Signature",
    "Travel",
    "Cozy",
    "Bold",
];
/// (noun, product type, US-cent price range).
const NOUNS: [(&str, &str, i64, i64); 12] = [
    ("Tee", "Apparel", 2000, 4500),
    ("Hoodie", "Apparel", 4500, 9000),
    ("Cap", "Apparel", 1800, 3500),
    ("Socks", "Apparel", 900, 2000),
    ("Mug", "Home", 1200, 2800),
    ("Candle", "Home", 1500, 4000),
    ("Throw Blanket", "Home", 4000, 11000),
    ("Tote Bag", "Accessories", 1500, 3500),
    ("Water Bottle", "Accessories", 1800, 4200),
    ("Backpack", "Accessories", 5000, 12000),
    ("Notebook", "Stationery", 800, 2200),
    ("Poster", "Stationery", 1200, 3000),
];
/// (country, weight, tax basis points).
const COUNTRIES: [(&str, f64, i64); 9] = [
    ("US", 55.0, 700),
    ("CA", 10.0, 1300),
    ("GB", 10.0, 2000),
    ("DE", 7.0, 1900),
    ("AU", 7.0, 1000),
    ("FR", 4.0, 2000),
    ("NL", 3.0, 2100),
    ("SE", 2.0, 2500),
    ("JP", 2.0, 1000),
];
const SOURCES: [(&str, f64); 5] = [
    ("web", 75.0),
    ("pos", 10.0),
    ("shopify_draft_order", 5.0),
    ("iphone", 6.0),
    ("android", 4.0),
];
const CODES: [(&str, i64); 3] = [("WELCOME10", 1000), ("SPRING15", 1500), ("VIP20", 2000)];
const LINE_COUNTS: [f64; 4] = [0.55, 0.28, 0.12, 0.05];
const QUANTITIES: [f64; 3] = [0.75, 0.18, 0.07];

/// Abandoned checkouts per (non-recovered) order: ~2.4× all orders once recoveries are counted.
const CHECKOUTS_PER_ORDER: f64 = 2.8;
const RECOVERY_CHANCE: f64 = 0.12;
const GUEST_CHANCE: f64 = 0.04;
const TEST_ORDER_CHANCE: f64 = 0.003;
const CANCEL_CHANCE: f64 = 0.015;
const REFUND_CHANCE: f64 = 0.05;
const EDIT_CHANCE: f64 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Task {
    Hour,
    Order,
    Checkout,
    /// Order index, whether the refund is full.
    Refund(usize, bool),
    Cancel(usize),
    Edit(usize),
    Recover(usize),
    Launch(usize),
    Archive(usize),
    Reprice,
}

/// The four connections the GraphQL API pages through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Connection {
    Orders,
    Customers,
    Products,
    Checkouts,
}

/// Supported `sortKey`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SortKey {
    Id,
    CreatedAt,
    UpdatedAt,
}

/// A product not launched yet.
#[derive(Debug, Clone)]
struct Template {
    title: String,
    product_type: String,
    price: i64,
    created_at: i64,
    archive_at: Option<i64>,
}

/// What a checkout would have bought, to turn it into an order on recovery.
#[derive(Debug, Clone)]
struct Draft {
    lines: Vec<(usize, u32, i64)>,
    country: (&'static str, i64),
}

#[derive(Debug)]
pub(crate) struct ShopGen {
    p: ShopParams,
    rng: Rng,
    agenda: Agenda<Task>,
    pub ledger: ShopifyLedger,
    templates: Vec<Template>,
    popularity: Vec<f64>,
    drafts: Vec<Draft>,
    next_ids: [u64; 6],
    order_index: HashMap<u64, usize>,
    customer_index: HashMap<u64, usize>,
    /// Sorted index views for paging, dropped on every change.
    pub(crate) views: HashMap<(Connection, SortKey), Vec<usize>>,
    mutations: u64,
    /// Orders left out of every `orders` listing that is not bounded by
    /// `processed_at` (or `created_at`): the records a sync reading by
    /// `updated_at` silently never sees, while a listing of the day by processing
    /// date (the drift check's) still does.
    pub(crate) hidden_orders: std::collections::HashSet<u64>,
}

const PRODUCT: usize = 0;
const CUSTOMER: usize = 1;
const ORDER: usize = 2;
const LINE: usize = 3;
const REFUND: usize = 4;
const CHECKOUT: usize = 5;

impl ShopGen {
    pub fn new(p: ShopParams) -> Self {
        let mut rng = Rng::new(mix(p.seed ^ hash_str(&p.shop)));
        let ledger = ShopifyLedger {
            shop: p.shop.clone(),
            currency: p.currency.to_ascii_uppercase(),
            start: p.start,
            end: p.start,
            products: Vec::new(),
            customers: Vec::new(),
            orders: Vec::new(),
            checkouts: Vec::new(),
        };
        let count = 20 + rng.below(21) as usize;
        let mut templates = Vec::with_capacity(count);
        let mut titles = std::collections::HashSet::new();
        let history = (p.anchor - p.start).max(DAY);
        while templates.len() < count {
            let adjective = *rng.pick(&ADJECTIVES);
            let (noun, product_type, low, high) = *rng.pick(&NOUNS);
            let title = format!("{adjective} {noun}");
            if !titles.insert(title.clone()) {
                continue;
            }
            let price = scale((rng.range(low, high) / 100 * 100 + 95).max(95), &p.currency);
            let created_at = if rng.chance(0.75) {
                p.start - rng.range(30 * DAY, 400 * DAY)
            } else {
                p.start + rng.range(0, history)
            };
            let archive_at = rng
                .chance(0.1)
                .then(|| created_at + rng.range(60 * DAY, 500 * DAY));
            templates.push(Template {
                title,
                product_type: product_type.into(),
                price,
                created_at,
                archive_at,
            });
        }
        let popularity = (0..count)
            .map(|rank| 1.0 / (rank as f64 + 1.0).powf(0.8))
            .collect();
        let mut shop = Self {
            p,
            rng,
            agenda: Agenda::default(),
            ledger,
            templates,
            popularity,
            drafts: Vec::new(),
            next_ids: [
                8_100_000_000_000,
                7_200_000_000_000,
                5_600_000_000_000,
                14_300_000_000_000,
                930_000_000_000,
                31_000_000_000_000,
            ],
            order_index: HashMap::new(),
            customer_index: HashMap::new(),
            views: HashMap::new(),
            mutations: 0,
            hidden_orders: Default::default(),
        };
        // Products that exist before the history starts get the lowest ids, in
        // creation order; launches are scheduled.
        let mut existing: Vec<usize> = (0..count)
            .filter(|i| shop.templates[*i].created_at < shop.p.start)
            .collect();
        existing.sort_by_key(|i| shop.templates[*i].created_at);
        for i in existing {
            shop.launch(i, shop.templates[i].created_at);
        }
        for i in 0..count {
            if shop.templates[i].created_at >= shop.p.start {
                shop.agenda
                    .push(shop.templates[i].created_at, Task::Launch(i));
            }
        }
        let start = shop.p.start;
        shop.agenda.push(start.div_euclid(HOUR) * HOUR, Task::Hour);
        shop.agenda.push(start + 7 * DAY, Task::Reprice);
        shop
    }

    pub fn advance(&mut self, end: i64) {
        if end <= self.ledger.end {
            return;
        }
        while let Some((at, task)) = self.agenda.pop_before(end) {
            self.run(at, task);
        }
        self.ledger.end = end;
        self.views.clear();
    }

    fn run(&mut self, t: i64, task: Task) {
        match task {
            Task::Hour => {
                let rate = SHOP.hourly_rate(self.p.daily_orders, t, self.p.anchor);
                for _ in 0..self.rng.poisson(rate) {
                    let at = t + self.rng.range(0, HOUR);
                    if at >= self.p.start {
                        self.agenda.push(at, Task::Order);
                    }
                }
                for _ in 0..self.rng.poisson(rate * CHECKOUTS_PER_ORDER) {
                    let at = t + self.rng.range(0, HOUR);
                    if at >= self.p.start {
                        self.agenda.push(at, Task::Checkout);
                    }
                }
                self.agenda.push(t + HOUR, Task::Hour);
            }
            Task::Order => self.order(t),
            Task::Checkout => self.checkout(t),
            Task::Refund(oi, full) => {
                let order = &self.ledger.orders[oi];
                let remaining = order.total_price - order.total_refunded;
                if order.cancelled_at.is_some() || remaining <= 0 {
                    return;
                }
                let amount = if full {
                    remaining
                } else {
                    let unit = 10i64.pow(currency_exponent(&self.p.currency));
                    let part = (order.total_price as f64 * self.rng.uniform(0.2, 0.6)) as i64;
                    (part / unit * unit).clamp(1, remaining)
                };
                self.apply_refund(oi, amount, t);
            }
            Task::Cancel(oi) => {
                let reason = *self.rng.pick(&["CUSTOMER", "INVENTORY", "DECLINED"]);
                self.cancel(oi, reason, t);
            }
            Task::Edit(oi) => {
                let order = &self.ledger.orders[oi];
                if order.cancelled_at.is_none() && order.refunds.is_empty() {
                    let mut rng = std::mem::replace(&mut self.rng, Rng::new(0));
                    self.apply_edit(oi, t, &mut rng);
                    self.rng = rng;
                }
            }
            Task::Recover(ci) => self.recover(ci, t),
            Task::Launch(i) => self.launch(i, t),
            Task::Archive(pi) => {
                let product = &mut self.ledger.products[pi];
                product.status = ProductStatus::Archived;
                product.archived_at = Some(t);
                product.updated_at = t;
            }
            Task::Reprice => {
                for pi in 0..self.ledger.products.len() {
                    if self.ledger.products[pi].status == ProductStatus::Active
                        && self.rng.chance(0.04)
                    {
                        let factor = self.rng.uniform(0.9, 1.15);
                        let product = &mut self.ledger.products[pi];
                        product.price =
                            ((product.price as f64 * factor / 50.0).round() as i64 * 50).max(50);
                        product.updated_at = t;
                    }
                }
                self.agenda.push(t + 7 * DAY, Task::Reprice);
            }
        }
    }

    fn next_id(&mut self, kind: usize) -> u64 {
        // Real ids are increasing but not contiguous; gaps keep tests honest.
        self.next_ids[kind] += 1 + self.rng.below(40);
        self.next_ids[kind]
    }

    fn launch(&mut self, template: usize, t: i64) {
        let id = self.next_id(PRODUCT);
        let tpl = self.templates[template].clone();
        let pi = self.ledger.products.len();
        let archived = tpl.archive_at.filter(|at| *at < self.p.start);
        self.ledger.products.push(ShopifyProduct {
            id,
            title: tpl.title,
            product_type: tpl.product_type,
            status: if archived.is_some() {
                ProductStatus::Archived
            } else {
                ProductStatus::Active
            },
            price: tpl.price,
            created_at: t,
            updated_at: archived.unwrap_or(t),
            archived_at: archived,
        });
        if let Some(at) = tpl.archive_at.filter(|at| *at >= self.p.start) {
            self.agenda.push(at.max(t), Task::Archive(pi));
        }
    }

    /// 1–4 distinct active products by popularity, each 1–3 units at today's price.
    fn pick_lines(&mut self) -> Vec<(usize, u32, i64)> {
        let weights: Vec<f64> = self
            .ledger
            .products
            .iter()
            .enumerate()
            .map(|(pi, p)| {
                if p.status == ProductStatus::Active {
                    self.popularity[pi.min(self.popularity.len() - 1)]
                } else {
                    0.0
                }
            })
            .collect();
        let active = weights.iter().filter(|w| **w > 0.0).count();
        let wanted = (self.rng.weighted(&LINE_COUNTS) + 1).min(active);
        let mut lines: Vec<(usize, u32, i64)> = Vec::with_capacity(wanted);
        let mut weights = weights;
        while lines.len() < wanted {
            let pi = self.rng.weighted(&weights);
            weights[pi] = 0.0;
            let quantity = self.rng.weighted(&QUANTITIES) as u32 + 1;
            lines.push((pi, quantity, self.ledger.products[pi].price));
        }
        lines
    }

    fn pick_country(&mut self) -> (&'static str, i64) {
        let weights: Vec<f64> = COUNTRIES.iter().map(|c| c.1).collect();
        let (country, _, tax) = COUNTRIES[self.rng.weighted(&weights)];
        (country, tax)
    }

    fn new_customer(&mut self, t: i64) -> usize {
        let id = self.next_id(CUSTOMER);
        let ci = self.ledger.customers.len();
        self.customer_index.insert(id, ci);
        self.ledger.customers.push(ShopifyCustomer {
            id,
            created_at: t,
            updated_at: t,
            number_of_orders: 0,
            amount_spent: 0,
        });
        ci
    }

    fn order(&mut self, t: i64) {
        let lines = self.pick_lines();
        if lines.is_empty() {
            return;
        }
        let customer = if self.rng.chance(GUEST_CHANCE) {
            None
        } else {
            let span = (self.p.anchor - self.p.start).max(1) as f64;
            let progress = ((t - self.p.start) as f64 / span).clamp(0.0, 1.2);
            let returning = 0.2 + 0.25 * progress;
            if !self.ledger.customers.is_empty() && self.rng.chance(returning) {
                Some(self.rng.below(self.ledger.customers.len() as u64) as usize)
            } else {
                Some(self.new_customer(t))
            }
        };
        let weights: Vec<f64> = SOURCES.iter().map(|s| s.1).collect();
        let source = SOURCES[self.rng.weighted(&weights)].0;
        let country = self.pick_country();
        let oi = self.place_order(t, lines, customer, country, source, None);
        let roll = self.rng.f64();
        if roll < CANCEL_CHANCE {
            let at = t + self.rng.range(HOUR, 36 * HOUR);
            self.agenda.push(at, Task::Cancel(oi));
        } else if roll < CANCEL_CHANCE + REFUND_CHANCE {
            let at = t + self.rng.range(2 * DAY, 20 * DAY);
            let full = self.rng.chance(0.4);
            self.agenda.push(at, Task::Refund(oi, full));
        } else if roll < CANCEL_CHANCE + REFUND_CHANCE + EDIT_CHANCE {
            let at = t + self.rng.range(HOUR / 2, 48 * HOUR);
            self.agenda.push(at, Task::Edit(oi));
        }
    }

    fn place_order(
        &mut self,
        t: i64,
        lines: Vec<(usize, u32, i64)>,
        customer: Option<usize>,
        (country, tax): (&'static str, i64),
        source: &str,
        checkout: Option<u64>,
    ) -> usize {
        let pos = source == "pos";
        let day = t.div_euclid(DAY);
        let friday = black_friday(date(t).0);
        let bfcm = (friday..=friday + 3).contains(&day);
        let (discount_code, discount_bp) = if self.rng.chance(if bfcm { 0.6 } else { 0.18 }) {
            let (code, bp) = if bfcm {
                ("BFCM25", 2500)
            } else {
                *self.rng.pick(&CODES)
            };
            (Some(code.to_owned()), bp)
        } else {
            (None, 0)
        };
        let line_items: Vec<ShopifyLineItem> = lines
            .iter()
            .map(|(pi, quantity, unit_price)| ShopifyLineItem {
                id: self.next_id(LINE),
                product: self.ledger.products[*pi].id,
                title: self.ledger.products[*pi].title.clone(),
                quantity: *quantity,
                current_quantity: *quantity,
                unit_price: *unit_price,
                discounted_total: 0,
            })
            .collect();
        let id = self.next_id(ORDER);
        let oi = self.ledger.orders.len();
        let mut order = ShopifyOrder {
            id,
            name: format!("#{}", 1001 + oi),
            created_at: t,
            updated_at: t,
            processed_at: t,
            cancelled_at: None,
            cancel_reason: None,
            test: self.rng.chance(TEST_ORDER_CHANCE),
            source_name: source.into(),
            customer: customer.map(|ci| self.ledger.customers[ci].id),
            shipping_country: (!pos).then(|| country.to_owned()),
            discount_code,
            discount_basis_points: discount_bp,
            tax_basis_points: if pos { 700 } else { tax },
            lines: line_items,
            subtotal: 0,
            total_discounts: 0,
            total_tax: 0,
            total_shipping: 0,
            total_price: 0,
            total_refunded: 0,
            refunds: Vec::new(),
            customer_order_index: None,
            edits: Vec::new(),
            checkout,
        };
        recompute(&mut order);
        order.total_shipping = if pos || order.subtotal >= scale(7500, &self.p.currency) {
            0
        } else if country == "US" {
            scale(595, &self.p.currency)
        } else {
            scale(1495, &self.p.currency)
        };
        recompute(&mut order);
        if let Some(ci) = customer {
            let customer = &mut self.ledger.customers[ci];
            customer.number_of_orders += 1;
            order.customer_order_index = Some(customer.number_of_orders as u32);
            customer.amount_spent += order.total_price;
            customer.updated_at = t;
        }
        self.order_index.insert(id, oi);
        self.ledger.orders.push(order);
        oi
    }

    fn checkout(&mut self, t: i64) {
        let lines = self.pick_lines();
        if lines.is_empty() {
            return;
        }
        let customer = match self.rng.f64() {
            x if x < 0.45 && !self.ledger.customers.is_empty() => {
                Some(self.rng.below(self.ledger.customers.len() as u64) as usize)
            }
            x if x < 0.65 => Some(self.new_customer(t)),
            _ => None,
        };
        let country = self.pick_country();
        let subtotal: i64 = lines
            .iter()
            .map(|(_, q, price)| i64::from(*q) * price)
            .sum();
        let shipping = if subtotal >= scale(7500, &self.p.currency) {
            0
        } else {
            scale(if country.0 == "US" { 595 } else { 1495 }, &self.p.currency)
        };
        let total = subtotal + shipping + round_bp(subtotal, country.1);
        let id = self.next_id(CHECKOUT);
        let ci = self.ledger.checkouts.len();
        self.ledger.checkouts.push(ShopifyCheckout {
            id,
            created_at: t,
            updated_at: t,
            completed_at: None,
            total_price: total,
            customer: customer.map(|c| self.ledger.customers[c].id),
            shipping_country: country.0.to_owned(),
            order: None,
        });
        self.drafts.push(Draft { lines, country });
        if self.rng.chance(RECOVERY_CHANCE) {
            let at = t + self.rng.range(HOUR, 3 * DAY);
            self.agenda.push(at, Task::Recover(ci));
        }
    }

    fn recover(&mut self, ci: usize, t: i64) {
        let checkout = &self.ledger.checkouts[ci];
        let checkout_id = checkout.id;
        let customer = match checkout.customer {
            Some(id) => self.customer_index[&id],
            None => self.new_customer(t),
        };
        let Draft { lines, country } = self.drafts[ci].clone();
        let oi = self.place_order(t, lines, Some(customer), country, "web", Some(checkout_id));
        let order_id = self.ledger.orders[oi].id;
        let customer_id = self.ledger.customers[customer].id;
        let checkout = &mut self.ledger.checkouts[ci];
        checkout.completed_at = Some(t);
        checkout.updated_at = t;
        checkout.order = Some(order_id);
        checkout.customer = Some(customer_id);
    }

    fn apply_refund(&mut self, oi: usize, amount: i64, t: i64) -> ShopifyRefund {
        let id = self.next_id(REFUND);
        let order = &mut self.ledger.orders[oi];
        let (returns, shipping, tax) = split_refund(order, amount);
        order.total_refunded += amount;
        let full = order.total_refunded >= order.total_price;
        let lines = if full {
            // Everything left, each line by its share of the merchandise.
            let lines: Vec<(u64, u32, i64)> = order
                .lines
                .iter()
                .map(|l| (l.id, l.current_quantity, l.discounted_total))
                .collect();
            let total: i64 = lines.iter().map(|(_, _, v)| v).sum::<i64>().max(1);
            let mut left = (returns, tax);
            let mut booked = Vec::new();
            for (k, (line, quantity, value)) in lines.iter().enumerate() {
                let share = if k + 1 == lines.len() {
                    left
                } else {
                    (returns * value / total, tax * value / total)
                };
                left = (left.0 - share.0, left.1 - share.1);
                booked.push((*line, *quantity, share.0, share.1));
            }
            for line in &mut order.lines {
                line.current_quantity = 0;
            }
            booked
        } else {
            // One unit of the most valuable line.
            let line = order
                .lines
                .iter()
                .max_by_key(|l| l.discounted_total)
                .map_or(0, |l| l.id);
            vec![(line, 1, returns, tax)]
        };
        let refund = ShopifyRefund {
            id,
            created_at: t,
            amount,
            full,
            returns,
            shipping,
            tax,
            lines,
        };
        order.refunds.push(refund.clone());
        order.updated_at = t;
        let customer = order.customer;
        self.touch_customer(customer, -amount, t);
        refund
    }

    fn cancel(&mut self, oi: usize, reason: &str, t: i64) {
        let order = &mut self.ledger.orders[oi];
        if order.cancelled_at.is_some() {
            return;
        }
        order.cancelled_at = Some(t);
        order.cancel_reason = Some(reason.into());
        order.updated_at = t;
        let remaining = order.total_price - order.total_refunded;
        if remaining > 0 {
            self.apply_refund(oi, remaining, t);
        }
    }

    /// Changes one line's quantity by one and recomputes the totals.
    fn apply_edit(&mut self, oi: usize, t: i64, rng: &mut Rng) -> ShopifyOrderEdit {
        let order = &mut self.ledger.orders[oi];
        let li = rng.below(order.lines.len() as u64) as usize;
        let old_quantity = order.lines[li].quantity;
        let old_total = order.total_price;
        let mut new_quantity = if old_quantity > 1 && rng.chance(0.5) {
            old_quantity - 1
        } else {
            old_quantity + 1
        };
        order.lines[li].quantity = new_quantity;
        recompute(order);
        if order.total_price < order.total_refunded {
            new_quantity = old_quantity + 1;
            order.lines[li].quantity = new_quantity;
            recompute(order);
        }
        let line = &mut order.lines[li];
        line.current_quantity = new_quantity;
        let edit = ShopifyOrderEdit {
            at: t,
            line: line.id,
            old_quantity,
            new_quantity,
            old_total_price: old_total,
            new_total_price: order.total_price,
        };
        order.edits.push(edit.clone());
        order.updated_at = t;
        let (customer, delta) = (order.customer, order.total_price - old_total);
        self.touch_customer(customer, delta, t);
        edit
    }

    fn touch_customer(&mut self, customer: Option<u64>, spent_delta: i64, t: i64) {
        if let Some(ci) = customer.and_then(|id| self.customer_index.get(&id)) {
            let customer = &mut self.ledger.customers[*ci];
            customer.amount_spent += spent_delta;
            customer.updated_at = t;
        }
    }

    fn mutable_order(&self, order_id: u64) -> Result<usize, SimError> {
        let oi = *self
            .order_index
            .get(&order_id)
            .ok_or_else(|| SimError::NotFound(format!("order {order_id} in {}", self.p.shop)))?;
        if self.ledger.orders[oi].cancelled_at.is_some() {
            return Err(SimError::Invalid(format!("order {order_id} is cancelled")));
        }
        Ok(oi)
    }

    /// Refunds `amount` of an order now (at the data clock).
    pub fn refund_order(&mut self, order_id: u64, amount: i64) -> Result<ShopifyRefund, SimError> {
        let oi = self.mutable_order(order_id)?;
        let order = &self.ledger.orders[oi];
        let remaining = order.total_price - order.total_refunded;
        if amount <= 0 || amount > remaining {
            return Err(SimError::Invalid(format!(
                "refund amount {amount} must be between 1 and the unrefunded {remaining}"
            )));
        }
        self.mutations += 1;
        let refund = self.apply_refund(oi, amount, self.ledger.end);
        self.views.clear();
        Ok(refund)
    }

    /// Edits an order now: one line's quantity changes by one.
    pub fn edit_order(&mut self, order_id: u64) -> Result<ShopifyOrderEdit, SimError> {
        let oi = self.mutable_order(order_id)?;
        let order = &self.ledger.orders[oi];
        if order.total_refunded >= order.total_price {
            return Err(SimError::Invalid(format!(
                "order {order_id} is fully refunded"
            )));
        }
        self.mutations += 1;
        let mut rng = Rng::new(mix(self.p.seed
            ^ hash_str(&self.p.shop)
            ^ mix(self.mutations)));
        let edit = self.apply_edit(oi, self.ledger.end, &mut rng);
        self.views.clear();
        Ok(edit)
    }

    /// The sort value and id of item `i` of `connection`.
    pub(crate) fn key(&self, connection: Connection, sort: SortKey, i: usize) -> (i64, u64) {
        let l = &self.ledger;
        let (id, created, updated) = match connection {
            Connection::Orders => (
                l.orders[i].id,
                l.orders[i].created_at,
                l.orders[i].updated_at,
            ),
            Connection::Customers => (
                l.customers[i].id,
                l.customers[i].created_at,
                l.customers[i].updated_at,
            ),
            Connection::Products => (
                l.products[i].id,
                l.products[i].created_at,
                l.products[i].updated_at,
            ),
            Connection::Checkouts => (
                l.checkouts[i].id,
                l.checkouts[i].created_at,
                l.checkouts[i].updated_at,
            ),
        };
        let value = match sort {
            SortKey::Id => id as i64,
            SortKey::CreatedAt => created,
            SortKey::UpdatedAt => updated,
        };
        (value, id)
    }

    pub(crate) fn len(&self, connection: Connection) -> usize {
        match connection {
            Connection::Orders => self.ledger.orders.len(),
            Connection::Customers => self.ledger.customers.len(),
            Connection::Products => self.ledger.products.len(),
            Connection::Checkouts => self.ledger.checkouts.len(),
        }
    }

    /// Item indices of `connection` ascending by (sort value, id), cached until the next change.
    pub(crate) fn view(&mut self, connection: Connection, sort: SortKey) -> &[usize] {
        if !self.views.contains_key(&(connection, sort)) {
            let mut order: Vec<usize> = (0..self.len(connection)).collect();
            order.sort_by_key(|i| self.key(connection, sort, *i));
            self.views.insert((connection, sort), order);
        }
        &self.views[&(connection, sort)]
    }

    pub(crate) fn customer_by_id(&self, id: u64) -> Option<&ShopifyCustomer> {
        self.customer_index
            .get(&id)
            .map(|i| &self.ledger.customers[*i])
    }
}

fn round_bp(amount: i64, basis_points: i64) -> i64 {
    (amount * basis_points + 5000).div_euclid(10_000)
}

/// Splits a refund of `amount` into merchandise, shipping and tax, within what the
/// order's earlier refunds left of each: tax in proportion to the order's tax share,
/// the rest merchandise first, then shipping (a partial refund rarely returns
/// shipping; refunding everything left returns all three).
fn split_refund(order: &ShopifyOrder, amount: i64) -> (i64, i64, i64) {
    let given = |f: fn(&ShopifyRefund) -> i64| order.refunds.iter().map(f).sum::<i64>();
    let left_returns = (order.subtotal - given(|r| r.returns)).max(0);
    let left_shipping = (order.total_shipping - given(|r| r.shipping)).max(0);
    let left_tax = (order.total_tax - given(|r| r.tax)).max(0);
    if amount >= left_returns + left_shipping + left_tax {
        let extra = amount - (left_returns + left_shipping + left_tax);
        return (left_returns + extra, left_shipping, left_tax);
    }
    let tax = (i128::from(amount) * i128::from(order.total_tax)
        / i128::from(order.total_price.max(1))) as i64;
    let tax = tax.min(left_tax);
    let returns = (amount - tax).min(left_returns);
    let shipping = (amount - tax - returns).min(left_shipping);
    let tax = amount - returns - shipping;
    (returns, shipping, tax)
}

/// Line discounts, subtotal, tax and total from the lines' quantities and
/// prices, the discount and tax rates and the (fixed) shipping.
fn recompute(order: &mut ShopifyOrder) {
    let mut subtotal = 0;
    let mut discounts = 0;
    for line in &mut order.lines {
        let original = line.unit_price * i64::from(line.quantity);
        let discount = round_bp(original, order.discount_basis_points);
        line.discounted_total = original - discount;
        subtotal += line.discounted_total;
        discounts += discount;
    }
    order.subtotal = subtotal;
    order.total_discounts = discounts;
    order.total_tax = round_bp(subtotal, order.tax_basis_points);
    order.total_price = subtotal + order.total_shipping + order.total_tax;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(shop: &str) -> ShopParams {
        ShopParams {
            seed: 42,
            shop: shop.into(),
            currency: "USD".into(),
            start: 1_700_000_000 - 120 * DAY,
            anchor: 1_700_000_000,
            daily_orders: 40.0,
        }
    }

    #[test]
    fn stepwise_advance_equals_one_advance_and_shops_differ() {
        let mut once = ShopGen::new(params("a.myshopify.com"));
        once.advance(1_700_000_000);
        let mut steps = ShopGen::new(params("a.myshopify.com"));
        steps.advance(1_700_000_000 - 50 * DAY + 7);
        steps.advance(1_700_000_000);
        assert!(once.ledger == steps.ledger, "stepwise generation diverged");
        let mut other = ShopGen::new(params("b.myshopify.com"));
        other.advance(1_700_000_000);
        assert!(once.ledger.orders != other.ledger.orders);
    }

    #[test]
    fn totals_are_consistent() {
        let mut shop = ShopGen::new(params("a.myshopify.com"));
        shop.advance(1_700_000_000);
        let ledger = &shop.ledger;
        assert!((20..=40).contains(&ledger.products.len()));
        for order in &ledger.orders {
            let lines: i64 = order.lines.iter().map(|l| l.discounted_total).sum();
            assert_eq!(lines, order.subtotal);
            let original: i64 = order
                .lines
                .iter()
                .map(|l| l.unit_price * i64::from(l.quantity))
                .sum();
            assert_eq!(original - order.total_discounts, order.subtotal);
            assert_eq!(
                order.subtotal + order.total_shipping + order.total_tax,
                order.total_price
            );
            let refunded: i64 = order.refunds.iter().map(|r| r.amount).sum();
            assert_eq!(refunded, order.total_refunded);
            assert!(order.total_refunded <= order.total_price);
            assert!(order.updated_at >= order.created_at);
            assert!((1..=4).contains(&order.lines.len()));
        }
        for customer in &ledger.customers {
            let orders: Vec<_> = ledger
                .orders
                .iter()
                .filter(|o| o.customer == Some(customer.id))
                .collect();
            assert_eq!(orders.len() as u64, customer.number_of_orders);
            assert_eq!(
                orders.iter().map(|o| o.net()).sum::<i64>(),
                customer.amount_spent
            );
        }
        let n = ledger.orders.len() as f64;
        let refunded = ledger
            .orders
            .iter()
            .filter(|o| !o.refunds.is_empty())
            .count() as f64;
        assert!((0.03..0.1).contains(&(refunded / n)), "{refunded} of {n}");
        assert!(ledger.orders.iter().any(|o| !o.edits.is_empty()));
        assert!(ledger.orders.iter().any(|o| o.cancelled_at.is_some()));
        assert!(ledger.orders.iter().any(|o| o.checkout.is_some()));
        let checkouts = ledger.checkouts.len() as f64;
        assert!((1.8..3.5).contains(&(checkouts / n)), "{checkouts} / {n}");
    }
}
