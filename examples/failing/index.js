/** A custom error: set `name`, since the call's error reads "<name>: <message>". */
class InsufficientFundsError extends Error {
  constructor(message) {
    super(message);
    this.name = "InsufficientFundsError";
  }
}

const BALANCE = 100;

export async function handle(data) {
  const amount = Number(data?.amount ?? 0);
  if (amount > BALANCE) {
    throw new InsufficientFundsError(`cannot withdraw ${amount}: the balance is ${BALANCE}`);
  }
  return { balance: BALANCE - amount };
}
