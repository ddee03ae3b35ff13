// TypeScript's convention: "./pricing.js" in source means the uploaded pricing.ts.
import { type LineItem, total } from "./pricing.js";

interface Input {
  items: LineItem[];
  currency?: string;
}

interface Output {
  currency: string;
  items: number;
  total: number;
}

export async function handle(data: Input): Promise<Output> {
  return {
    currency: data.currency ?? "EUR",
    items: data.items.length,
    total: total(data.items),
  };
}
