interface Env {
  RESULTS: Queue;
  WHO: string;
}

type Task = { name: string; n: number };

export default {
  async fetch(): Promise<Response> {
    return new Response("the back Worker only consumes", { status: 404 });
  },

  // Each task becomes a result on the other Worker's queue, saying who did it and how often it was tried.
  async queue(batch: MessageBatch<Task>, env: Env): Promise<void> {
    await env.RESULTS.sendBatch(
      batch.messages.map((m) => ({
        body: {
          name: m.body.name,
          square: m.body.n * m.body.n,
          by: env.WHO,
          queue: batch.queue,
          attempts: m.attempts,
        },
      })),
    );
    batch.ackAll();
  },
};
