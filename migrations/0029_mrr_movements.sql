-- MRR movements (new, expansion, contraction, churn, reactivation) are derived per
-- customer from the `mrr` events that name their customer in `dimensions->>'entity'`
-- (db::metric_events::recompute_mrr_movements). After each page the sink reads the
-- MRR events of the customers it touched: this partial index finds them without
-- scanning the integration's other events (only MRR events carry an entity).
CREATE INDEX metric_events_entity ON metric_events (integration_id, (dimensions->>'entity'))
    WHERE dimensions ? 'entity';
