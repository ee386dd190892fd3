import { useEffect, useRef, useState } from 'react';
import { tweenValue } from './pulse';

/** True when the person asked the system for less motion. */
export function usePrefersReducedMotion(): boolean {
  const query = '(prefers-reduced-motion: reduce)';
  const [reduced, setReduced] = useState(() => typeof window !== 'undefined' && window.matchMedia?.(query).matches === true);
  useEffect(() => {
    const m = window.matchMedia?.(query);
    if (!m) return;
    const on = () => setReduced(m.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, []);
  return reduced;
}

/** `target`, counted up (or down) to over `durationMs`; at once with reduced motion. */
export function useCountUp(target: number, durationMs = 700): number {
  const reduced = usePrefersReducedMotion();
  const [shown, setShown] = useState(target);
  const shownRef = useRef(target);
  useEffect(() => {
    const from = shownRef.current;
    if (reduced || from === target) {
      shownRef.current = target;
      setShown(target);
      return;
    }
    const started = performance.now();
    let frame = requestAnimationFrame(function tick(t) {
      const v = tweenValue(from, target, t - started, durationMs);
      shownRef.current = v;
      setShown(v);
      if (v !== target) frame = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(frame);
  }, [target, durationMs, reduced]);
  return shown;
}

/** The current time, updated every `intervalMs`. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/**
 * `text`, changing at most once per `gapMs`: what an aria-live region reads out, so a
 * screen reader hears the latest total now and then rather than every sale.
 */
export function useThrottled(text: string, gapMs: number): string {
  const [shown, setShown] = useState(text);
  const lastAt = useRef(0);
  useEffect(() => {
    if (text === shown) return;
    const wait = lastAt.current + gapMs - Date.now();
    const apply = () => {
      lastAt.current = Date.now();
      setShown(text);
    };
    if (wait <= 0) {
      apply();
      return;
    }
    const t = setTimeout(apply, wait);
    return () => clearTimeout(t);
  }, [text, shown, gapMs]);
  return shown;
}
