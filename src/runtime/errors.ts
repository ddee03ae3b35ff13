/** A build that cannot go on: its message (and trace) is the version's error, shown to the user as it is. */
export class BuildError extends Error {
  constructor(
    message: string,
    readonly trace = "",
  ) {
    super(message);
    this.name = "BuildError";
  }
}
