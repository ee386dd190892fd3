//! The statistics of an A/B test, for the experiment card: per treatment against
//! the control, its conversion rate, revenue per visitor and average order value,
//! the relative lifts, the probability that it converts better than the control,
//! and a 95 % interval for the difference of conversion rates. Pure: an
//! [`Experiment`] item in, a serialisable [`ExperimentStats`] out.
//!
//! **Probability to beat the control.** Each arm's conversion rate gets an
//! independent Beta(1 + orders, 1 + visitors − orders) posterior (a uniform
//! prior), and P(p_B > p_A) is Evan Miller's exact closed form ("Formulas for
//! Bayesian A/B Testing"):
//!
//! P = Σ_{i=0}^{α_B−1} B(α_A+i, β_A+β_B) / ((β_B+i) · B(1+i, β_B) · B(α_A, β_A)),
//!
//! each term computed in log space with a Lanczos log-gamma, so it holds for
//! thousands of orders. The sum has α_B terms; beyond [`EXACT_MAX_TERMS`] (a
//! treatment with more than 20 000 orders, where both posteriors are very nearly
//! normal) it is replaced by the normal approximation of the difference of the two
//! Beta distributions (`method: "normal_approximation"` in the result).
//!
//! **Interval.** The 95 % interval of p_B − p_A is Newcombe's hybrid score
//! interval (his method 10: built from the two Wilson score intervals), which
//! keeps its coverage with few conversions where the Wald interval does not.
//!
//! An arm without visitors has no rates: a comparison involving one has no lift,
//! probability or interval (`None`), never a made-up 50 %.

use pulseboard_connectors::items::{Experiment, ExperimentStatus, Variant};
use serde::Serialize;

/// Above this many terms (orders of the treatment + 1) the exact sum gives way to
/// the normal approximation.
pub const EXACT_MAX_TERMS: u64 = 20_000;

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// One arm's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ArmStats {
    pub variant_id: String,
    pub name: String,
    pub is_control: bool,
    pub visitors: u64,
    pub orders: u64,
    pub revenue_minor: i64,
    /// Orders / visitors, 0..1; `None` without visitors.
    pub conversion_rate: Option<f64>,
    /// Revenue / visitors in minor units; `None` without visitors.
    pub revenue_per_visitor_minor: Option<f64>,
    /// Average order value: revenue / orders in minor units; `None` without orders.
    pub average_order_value_minor: Option<f64>,
}

/// How [`Comparison::probability_to_beat_control`] was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbabilityMethod {
    /// Evan Miller's closed form, summed exactly.
    ExactBeta,
    /// The normal approximation of the two Beta posteriors (very large counts).
    NormalApproximation,
}

/// A 95 % interval of the difference of conversion rates (treatment − control).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// One treatment against the control.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub treatment: ArmStats,
    /// Relative lift of the conversion rate: cr_B / cr_A − 1 (0.12 = +12 %);
    /// `None` when the control converted nobody or an arm has no visitors.
    pub conversion_lift: Option<f64>,
    /// Relative lift of revenue per visitor, the same way.
    pub revenue_per_visitor_lift: Option<f64>,
    /// P(treatment's conversion rate > control's), 0..1.
    pub probability_to_beat_control: Option<f64>,
    pub method: Option<ProbabilityMethod>,
    /// Newcombe's hybrid score interval of cr_B − cr_A.
    pub difference_interval: Option<Interval>,
    /// "92 % chance that Variant B converts better than the control".
    pub sentence: Option<String>,
}

/// What the experiment card shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentStats {
    pub experiment_id: String,
    pub name: String,
    pub status: ExperimentStatus,
    pub currency: String,
    /// `None` for an experiment without variants.
    pub control: Option<ArmStats>,
    pub treatments: Vec<Comparison>,
}

fn arm(variant: &Variant) -> ArmStats {
    let visitors = variant.visitors;
    // A provider could report more orders than visitors (a visitor ordering
    // twice); conversions are visitors who ordered, so they are capped.
    let orders = variant.orders.min(visitors);
    let per_visitor = |x: f64| (visitors > 0).then(|| x / visitors as f64);
    ArmStats {
        variant_id: variant.id.clone(),
        name: variant.name.clone(),
        is_control: variant.is_control,
        visitors,
        orders: variant.orders,
        revenue_minor: variant.revenue_minor,
        conversion_rate: per_visitor(orders as f64),
        revenue_per_visitor_minor: per_visitor(variant.revenue_minor as f64),
        average_order_value_minor: (variant.orders > 0)
            .then(|| variant.revenue_minor as f64 / variant.orders as f64),
    }
}

fn lift(treatment: Option<f64>, control: Option<f64>) -> Option<f64> {
    match (treatment, control) {
        (Some(t), Some(c)) if c > 0.0 => Some(t / c - 1.0),
        _ => None,
    }
}

/// The card's numbers for an experiment: the control (the variant marked so, else
/// the first) and every other variant compared with it.
pub fn analyze(experiment: &Experiment) -> ExperimentStats {
    let control_index = experiment
        .variants
        .iter()
        .position(|v| v.is_control)
        .unwrap_or(0);
    let control = experiment.variants.get(control_index).map(arm);
    let treatments = match &control {
        None => vec![],
        Some(control) => experiment
            .variants
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != control_index)
            .map(|(_, v)| compare(control, arm(v)))
            .collect(),
    };
    ExperimentStats {
        experiment_id: experiment.id.clone(),
        name: experiment.name.clone(),
        status: experiment.status,
        currency: experiment.currency.clone(),
        control,
        treatments,
    }
}

fn compare(control: &ArmStats, treatment: ArmStats) -> Comparison {
    let both = control.visitors > 0 && treatment.visitors > 0;
    let capped = |a: &ArmStats| a.orders.min(a.visitors);
    let (probability, method) = if both {
        let (p, m) = probability_b_beats_a(
            capped(control),
            control.visitors - capped(control),
            capped(&treatment),
            treatment.visitors - capped(&treatment),
        );
        (Some(p), Some(m))
    } else {
        (None, None)
    };
    let difference_interval = both.then(|| {
        newcombe_interval(
            capped(&treatment),
            treatment.visitors,
            capped(control),
            control.visitors,
        )
    });
    let sentence = probability.map(|p| sentence(p, &treatment.name));
    Comparison {
        conversion_lift: lift(treatment.conversion_rate, control.conversion_rate),
        revenue_per_visitor_lift: lift(
            treatment.revenue_per_visitor_minor,
            control.revenue_per_visitor_minor,
        ),
        probability_to_beat_control: probability,
        method,
        difference_interval,
        sentence,
        treatment,
    }
}

/// "92 % chance that Variant B converts better than the control"; whole percents,
/// never a certain "100 %" or "0 %" a finite sample cannot give.
pub fn sentence(probability: f64, treatment: &str) -> String {
    let percent = (probability * 100.0).round();
    let said = if percent >= 100.0 {
        "More than 99 %".to_owned()
    } else if percent <= 0.0 {
        "Less than 1 %".to_owned()
    } else {
        format!("{percent:.0} %")
    };
    format!("{said} chance that {treatment} converts better than the control")
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients: relative error about
/// 1e-15 over the range used here).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// ln B(a, b).
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// P(p_B > p_A) for independent Beta(1 + successes, 1 + failures) posteriors.
pub fn probability_b_beats_a(
    a_successes: u64,
    a_failures: u64,
    b_successes: u64,
    b_failures: u64,
) -> (f64, ProbabilityMethod) {
    let (alpha_a, beta_a) = (1.0 + a_successes as f64, 1.0 + a_failures as f64);
    let (alpha_b, beta_b) = (1.0 + b_successes as f64, 1.0 + b_failures as f64);
    if b_successes + 1 > EXACT_MAX_TERMS {
        return (
            normal_approximation(alpha_a, beta_a, alpha_b, beta_b),
            ProbabilityMethod::NormalApproximation,
        );
    }
    let ln_b_a = ln_beta(alpha_a, beta_a);
    let total: f64 = (0..=b_successes)
        .map(|i| {
            let i = i as f64;
            (ln_beta(alpha_a + i, beta_a + beta_b)
                - (beta_b + i).ln()
                - ln_beta(1.0 + i, beta_b)
                - ln_b_a)
                .exp()
        })
        .sum();
    (total.clamp(0.0, 1.0), ProbabilityMethod::ExactBeta)
}

/// P(X_B > X_A) with each Beta replaced by the normal of its mean and variance.
fn normal_approximation(alpha_a: f64, beta_a: f64, alpha_b: f64, beta_b: f64) -> f64 {
    let moments = |a: f64, b: f64| {
        let n = a + b;
        (a / n, a * b / (n * n * (n + 1.0)))
    };
    let (mean_a, var_a) = moments(alpha_a, beta_a);
    let (mean_b, var_b) = moments(alpha_b, beta_b);
    standard_normal_cdf((mean_b - mean_a) / (var_a + var_b).sqrt())
}

/// Φ(x), through erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn standard_normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The Wilson score interval of `successes` out of `n` (n > 0).
fn wilson(successes: u64, n: u64) -> (f64, f64) {
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let centre = p + z2 / (2.0 * n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denominator = 1.0 + z2 / n;
    ((centre - half) / denominator, (centre + half) / denominator)
}

/// Newcombe's hybrid score interval (method 10) of p_B − p_A at 95 %.
pub fn newcombe_interval(b_successes: u64, b_n: u64, a_successes: u64, a_n: u64) -> Interval {
    let (p_b, p_a) = (
        b_successes as f64 / b_n as f64,
        a_successes as f64 / a_n as f64,
    );
    let (low_b, high_b) = wilson(b_successes, b_n);
    let (low_a, high_a) = wilson(a_successes, a_n);
    let d = p_b - p_a;
    Interval {
        low: d - ((p_b - low_b).powi(2) + (high_a - p_a).powi(2)).sqrt(),
        high: d + ((high_b - p_b).powi(2) + (p_a - low_a).powi(2)).sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    /// P(X_B > X_A) for X ~ Beta(α, β), integrated numerically, independently of
    /// the closed form: ∫ f_B(x) · F_A(x) dx with both densities evaluated on a
    /// fine midpoint grid and F_A accumulated along it.
    fn integrate(alpha_a: f64, beta_a: f64, alpha_b: f64, beta_b: f64) -> f64 {
        let steps = 200_000;
        let h = 1.0 / steps as f64;
        let density = |a: f64, b: f64, x: f64| {
            ((a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_beta(a, b)).exp()
        };
        let (mut cdf_a, mut total) = (0.0, 0.0);
        for k in 0..steps {
            let x = (k as f64 + 0.5) * h;
            let fa = density(alpha_a, beta_a, x) * h;
            // F_A at the midpoint: everything below plus half of this cell.
            total += density(alpha_b, beta_b, x) * h * (cdf_a + fa / 2.0);
            cdf_a += fa;
        }
        total
    }

    fn exact(a: (u64, u64), b: (u64, u64)) -> f64 {
        let (p, method) = probability_b_beats_a(a.0, a.1 - a.0, b.0, b.1 - b.0);
        assert_eq!(method, ProbabilityMethod::ExactBeta);
        p
    }

    #[test]
    fn log_gamma_matches_factorials_and_the_half() {
        // Γ(n) = (n−1)!, Γ(1/2) = √π.
        assert!((ln_gamma(1.0)).abs() < 1e-13);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(21.0) - 2_432_902_008_176_640_000f64.ln()).abs() < 1e-11);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
    }

    #[test]
    fn small_cases_equal_their_closed_forms() {
        // Beta(1,1) vs Beta(2,1): ∫₀¹ 2b · b db = 2/3; vs Beta(1,2): 1/3;
        // Beta(1,2) vs Beta(2,1): ∫₀¹ 2x (2x − x²) dx = 5/6.
        assert!((exact((0, 0), (1, 1)) - 2.0 / 3.0).abs() < 1e-12);
        assert!((exact((0, 0), (0, 1)) - 1.0 / 3.0).abs() < 1e-12);
        assert!((exact((0, 1), (1, 1)) - 5.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn the_closed_form_equals_numerical_integration() {
        for (a, b) in [
            ((50, 1000), (65, 1000)),
            ((12, 340), (9, 310)),
            ((3, 40), (7, 38)),
            ((230, 4800), (270, 4750)),
        ] {
            let closed = exact(a, b);
            let numeric = integrate(
                1.0 + a.0 as f64,
                1.0 + (a.1 - a.0) as f64,
                1.0 + b.0 as f64,
                1.0 + (b.1 - b.0) as f64,
            );
            assert!(
                (closed - numeric).abs() < 1e-6,
                "{a:?} {b:?}: {closed} vs {numeric}"
            );
        }
    }

    #[test]
    fn identical_arms_are_even_and_swapping_them_complements() {
        for (s, n) in [(0, 10), (40, 1000), (7, 7)] {
            assert!((exact((s, n), (s, n)) - 0.5).abs() < 1e-9, "{s}/{n}");
        }
        let forward = exact((50, 1000), (65, 1000));
        let backward = exact((65, 1000), (50, 1000));
        assert!((forward + backward - 1.0).abs() < 1e-9);
        assert!(forward > 0.9 && forward < 0.95, "{forward}");
    }

    #[test]
    fn huge_counts_use_the_normal_approximation_and_agree_with_it_below() {
        // Just under the switch both ways are computed and agree closely.
        let (exact_p, _) = probability_b_beats_a(19_000, 381_000, 19_500, 380_500);
        let normal = normal_approximation(19_001.0, 381_001.0, 19_501.0, 380_501.0);
        assert!((exact_p - normal).abs() < 2e-3, "{exact_p} vs {normal}");
        let (p, method) = probability_b_beats_a(25_000, 475_000, 25_400, 474_600);
        assert_eq!(method, ProbabilityMethod::NormalApproximation);
        assert!(p > 0.9 && p < 1.0, "{p}");
    }

    #[test]
    fn newcombes_interval_matches_his_published_example() {
        // Newcombe (1998), Statistics in Medicine 17:873–890, table II example
        // 56/70 − 48/80: method 10 gives 0.0524 to 0.3339.
        let interval = newcombe_interval(56, 70, 48, 80);
        assert!((interval.low - 0.0524).abs() < 5e-5, "{interval:?}");
        assert!((interval.high - 0.3339).abs() < 5e-5, "{interval:?}");
    }

    fn variant(id: &str, control: bool, visitors: u64, orders: u64, revenue: i64) -> Variant {
        Variant {
            id: id.into(),
            name: format!("Variant {id}"),
            is_control: control,
            visitors,
            orders,
            revenue_minor: revenue,
        }
    }

    fn experiment(variants: Vec<Variant>) -> Experiment {
        Experiment {
            id: "exp_1".into(),
            name: "Free shipping at $50".into(),
            status: ExperimentStatus::Running,
            created_at: Utc::now(),
            started_at: Some(Utc::now()),
            ended_at: None,
            currency: "USD".into(),
            variants,
            url: None,
        }
    }

    #[test]
    fn the_card_compares_each_treatment_with_the_control() {
        let stats = analyze(&experiment(vec![
            variant("B", false, 1000, 65, 390_000),
            variant("A", true, 1000, 50, 250_000),
        ]));
        let control = stats.control.as_ref().unwrap();
        assert_eq!(control.variant_id, "A", "the control is the marked variant");
        assert_eq!(control.conversion_rate, Some(0.05));
        assert_eq!(control.revenue_per_visitor_minor, Some(250.0));
        assert_eq!(control.average_order_value_minor, Some(5000.0));
        let b = &stats.treatments[0];
        assert!((b.conversion_lift.unwrap() - 0.3).abs() < 1e-12);
        assert!((b.revenue_per_visitor_lift.unwrap() - 0.56).abs() < 1e-12);
        let p = b.probability_to_beat_control.unwrap();
        assert!((p - exact((50, 1000), (65, 1000))).abs() < 1e-15);
        assert_eq!(
            b.sentence.as_deref(),
            Some(
                format!(
                    "{:.0} % chance that Variant B converts better than the control",
                    p * 100.0
                )
                .as_str()
            )
        );
        let interval = b.difference_interval.unwrap();
        assert!(interval.low < 0.015 && interval.high > 0.015);
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["treatments"][0]["method"], "exact_beta");
        assert_eq!(json["status"], "running");
    }

    #[test]
    fn arms_without_visitors_have_no_verdict() {
        let stats = analyze(&experiment(vec![
            variant("A", true, 0, 0, 0),
            variant("B", false, 120, 4, 20_000),
        ]));
        let b = &stats.treatments[0];
        assert_eq!(stats.control.as_ref().unwrap().conversion_rate, None);
        assert_eq!(b.probability_to_beat_control, None);
        assert_eq!(b.conversion_lift, None);
        assert_eq!(b.difference_interval, None);
        assert_eq!(b.sentence, None);
        assert_eq!(b.treatment.average_order_value_minor, Some(5000.0));
        assert!(analyze(&experiment(vec![])).control.is_none());
    }

    #[test]
    fn sentences_never_claim_certainty() {
        assert_eq!(
            sentence(0.9213, "Variant B"),
            "92 % chance that Variant B converts better than the control"
        );
        assert!(sentence(0.9996, "B").starts_with("More than 99 %"));
        assert!(sentence(0.0001, "B").starts_with("Less than 1 %"));
    }
}
