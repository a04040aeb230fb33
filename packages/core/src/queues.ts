import { type ConnectionOptions, Queue } from 'bullmq';
import { queueNames } from './schemas/jobs.js';

/**
 * The BullMQ prefix of one queue: under the deployment's prefix, with the queue's name as its Redis
 * Cluster hash tag, so all of a queue's keys (and the fair-queue state beside them) share one slot
 * while different queues spread over the cluster (BullMQ's cluster guidance: a braced prefix per
 * queue). Workers must use the same prefix as the queue.
 */
export const queuePrefix = (deploymentPrefix: string, queueName: string): string =>
  `${deploymentPrefix}:{${queueName}}`;

/** The queues of one deployment, shared by the API (producer) and the workers. */
export class Queues {
  private readonly generateQueues = new Map<string, Queue>();
  private finalizeQueue: Queue | undefined;
  private deliverQueue: Queue | undefined;
  private economyQueue: Queue | undefined;

  constructor(
    private readonly connection: ConnectionOptions,
    /** The deployment's prefix (PIXELMILL_QUEUE_PREFIX); each queue's own is `prefixOf(name)`. */
    readonly prefix: string,
  ) {}

  prefixOf(queueName: string): string {
    return queuePrefix(this.prefix, queueName);
  }

  private open(name: string): Queue {
    return new Queue(name, { connection: this.connection, prefix: this.prefixOf(name) });
  }

  generate(modelId: string): Queue {
    let q = this.generateQueues.get(modelId);
    if (q === undefined) {
      q = this.open(queueNames.generate(modelId));
      this.generateQueues.set(modelId, q);
    }
    return q;
  }

  get finalize(): Queue {
    this.finalizeQueue ??= this.open(queueNames.finalize);
    return this.finalizeQueue;
  }

  get deliver(): Queue {
    this.deliverQueue ??= this.open(queueNames.deliver);
    return this.deliverQueue;
  }

  /** Provider batch jobs of the economy lane (one BullMQ job per provider job). */
  get economy(): Queue {
    this.economyQueue ??= this.open(queueNames.economy);
    return this.economyQueue;
  }

  all(): Queue[] {
    return [
      ...this.generateQueues.values(),
      ...(this.finalizeQueue ? [this.finalizeQueue] : []),
      ...(this.deliverQueue ? [this.deliverQueue] : []),
      ...(this.economyQueue ? [this.economyQueue] : []),
    ];
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map((q) => q.close()));
  }
}
