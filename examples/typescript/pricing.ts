export interface LineItem {
  name: string;
  /** Unit price. */
  price: number;
  quantity: number;
}

/** The order total, rounded to cents. */
export function total(items: LineItem[]): number {
  const sum = items.reduce((acc, item) => acc + item.price * item.quantity, 0);
  return Math.round(sum * 100) / 100;
}
