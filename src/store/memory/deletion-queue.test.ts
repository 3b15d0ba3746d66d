import { describeDeletionQueueContract } from "../../../test/contract/deletion-queue-contract.js";
import { createMemoryDeletionQueue } from "./deletion-queue.js";

describeDeletionQueueContract("memory", 1000, async () => {
  const queue = createMemoryDeletionQueue({ leaseMs: 1000 });
  return { a: queue, b: queue };
});
