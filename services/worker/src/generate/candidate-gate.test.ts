import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { CandidateGate } from './candidate-gate.js';

const job = (id: string, queueName = 'generate-a') => ({ id, queueName }) as Job;

describe('candidate gate', () => {
  it('lets `limit` jobs per queue ask the limiter and hands the others back with a pause', () => {
    const gate = new CandidateGate(2);
    expect(gate.enter(job('1'), 1_000)).toEqual({ enter: true });
    expect(gate.enter(job('2'), 1_000)).toEqual({ enter: true });
    expect(gate.full('generate-a')).toBe(true);
    // Nobody has heard from the limiter yet: a short pause so BullMQ does not hand the job straight back.
    expect(gate.enter(job('3'), 1_000)).toEqual({ enter: false, pauseMs: 20 });
    // The queue is paused now; more jobs go back without pausing again.
    expect(gate.enter(job('4'), 1_010)).toEqual({ enter: false, pauseMs: 0 });
    // Another queue has its own candidates; a job already in keeps its place.
    expect(gate.enter(job('5', 'generate-b'), 1_010)).toEqual({ enter: true });
    expect(gate.enter(job('1'), 1_010)).toEqual({ enter: true });
  });

  it('pauses until the slot the limiter announced, and frees a place when a candidate leaves', () => {
    const gate = new CandidateGate(1);
    gate.enter(job('1'), 1_000);
    gate.noCapacityFor('generate-a', 300, 1_000);
    expect(gate.enter(job('2'), 1_100)).toEqual({ enter: false, pauseMs: 200 });
    gate.leave(job('1'));
    expect(gate.full('generate-a')).toBe(false);
    expect(gate.enter(job('2'), 1_400)).toEqual({ enter: true });
  });
});
