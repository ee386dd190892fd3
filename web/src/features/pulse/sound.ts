// The optional sale sound: two short rising sine tones made with WebAudio (no audio
// file to ship), off unless the person turns it on; the choice is remembered.
import { useCallback, useState } from 'react';

const KEY = 'pulseboard.pulse.sound';

function readSetting(): boolean {
  try {
    return localStorage.getItem(KEY) === 'on';
  } catch {
    return false;
  }
}

let context: AudioContext | null = null;

function audio(): AudioContext | null {
  if (typeof window === 'undefined' || !('AudioContext' in window)) return null;
  context ??= new AudioContext();
  // Browsers start an AudioContext suspended until a click; the toggle is one.
  if (context.state === 'suspended') void context.resume().catch(() => {});
  return context;
}

/** A "ka-ching" of two notes, about a quarter of a second. */
export function playSaleTone() {
  const ctx = audio();
  if (!ctx) return;
  const start = ctx.currentTime + 0.01;
  [
    { freq: 987.77, at: 0 },
    { freq: 1318.51, at: 0.09 },
  ].forEach(({ freq, at }) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + at);
    gain.gain.exponentialRampToValueAtTime(0.15, start + at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + at);
    osc.stop(start + at + 0.18);
  });
}

/** Whether the sale sound is on, and a toggle that remembers the choice. */
export function useSaleSound(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(readSetting);
  const set = useCallback((next: boolean) => {
    setOn(next);
    try {
      localStorage.setItem(KEY, next ? 'on' : 'off');
    } catch {
      /* private mode: for this page only */
    }
    // Unlock audio inside the click that turned it on.
    if (next) audio();
  }, []);
  return [on, set];
}
