// Statements shared by the requests of one event-loop turn: under load, many requests reach the
// same read or write at once, and one statement for all of them costs one round trip, one
// socket write and one execution in the database instead of one each.

/**
 * Collects the requests made during one turn of the event loop and runs them together when it
 * ends. Requests under the same key are one request (the last one made). `run` answers a batch
 * with a function from key to answer; if it fails, every request of the batch fails with it.
 */
export function perTurnBatches<Request, Answer>(run: (requests: Map<string, Request>) => Promise<(key: string) => Answer>) {
  let collecting: { requests: Map<string, Request>; answers: Promise<(key: string) => Answer> } | undefined;
  return (key: string, request: Request): Promise<Answer> => {
    if (!collecting) {
      const requests = new Map<string, Request>();
      const answers = new Promise<(key: string) => Answer>((resolve) =>
        setImmediate(() => {
          collecting = undefined;
          resolve(run(requests));
        }),
      );
      collecting = { requests, answers };
    }
    collecting.requests.set(key, request);
    return collecting.answers.then((answerFor) => answerFor(key));
  };
}
