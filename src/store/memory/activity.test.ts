import { describeActivityStoreContract } from "../../../test/contract/activity-store-contract.js";
import { createMemoryActivityStore } from "./activity.js";

describeActivityStoreContract("memory", async () => {
  const store = createMemoryActivityStore();
  return [store, store];
});
