//! The sentiment of free text (review bodies, support tickets): VADER, a
//! lexicon-and-rules model made for short informal text, through the maintained
//! `vader-sentimental` port. Its compound score runs from −1 (most negative) to 1
//! (most positive); VADER's authors call ≥ 0.05 positive and ≤ −0.05 negative.

use std::sync::LazyLock;

use vader_sentimental::SentimentIntensityAnalyzer;

static ANALYZER: LazyLock<SentimentIntensityAnalyzer<'static>> =
    LazyLock::new(SentimentIntensityAnalyzer::new);

/// VADER's compound score of `text`, in −1..=1 (0 for empty text).
pub fn sentiment(text: &str) -> f64 {
    if text.trim().is_empty() {
        return 0.0;
    }
    ANALYZER.polarity_scores(text).compound.clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::sentiment;

    #[test]
    fn praise_is_positive_and_complaints_negative() {
        assert!(sentiment("Great coffee, I love it!") > 0.5);
        assert!(sentiment("Terrible. The bag arrived broken and nobody answered.") < -0.3);
        assert!(sentiment("not good") < 0.0, "negation flips the sign");
        assert_eq!(sentiment("   "), 0.0);
    }
}
