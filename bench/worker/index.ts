/**
 * The benchmarks' worker (`npm run bench` starts the local platform with this entry): the platform's own Worker,
 * with the baseline routes of ./routes added to its app. The production bundle (src/index.ts) holds none of it.
 */

import { newApp } from "../../src/http/app";
import { createWorker, localEntrypoint } from "../../src/index";
import { registerBenchRoutes } from "./routes";

export { EgressGateway, FunctionObject } from "../../src/index";

const app = newApp();
registerBenchRoutes(app);

const worker = createWorker(app);
export default worker;
export const LocalHttp = localEntrypoint(worker);
