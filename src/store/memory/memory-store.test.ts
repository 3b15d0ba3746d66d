import { describeStoreContract } from "../../../test/contract/store-contract.js";
import { createMemoryStore } from "./memory-store.js";

describeStoreContract("memory", async (clock) => createMemoryStore({ now: clock.now }));
