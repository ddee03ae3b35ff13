// The edgefn console's entry module: vanilla ES modules loaded by the browser itself, no build step. It hands the
// pages to the router, sends the user back to the sign-in form when the session ends, and wires Sign out. The
// modules: api.js (the session and the API), dom.js (elements, formatting, toast), router.js (hash routes, turns),
// charts.js, logs.js, and one module per page in pages/ (the function page's tabs in pages/function/; the members,
// account and invite pages).

import { signOut, whenSessionEnds } from "./api.js";
import { renderAccount } from "./pages/account.js";
import { renderCall } from "./pages/call.js";
import { renderFunction } from "./pages/function.js";
import { renderFunctions } from "./pages/functions.js";
import { renderInvite } from "./pages/invite.js";
import { renderMembers } from "./pages/members.js";
import { renderSignIn } from "./pages/sign-in.js";
import { start } from "./router.js";

whenSessionEnds((message) => renderSignIn(message));

document.getElementById("sign-out").addEventListener("click", async () => {
  await signOut();
  location.hash = "";
  renderSignIn();
});

start({
  signIn: renderSignIn,
  invite: renderInvite,
  functions: renderFunctions,
  fn: renderFunction,
  call: renderCall,
  members: renderMembers,
  account: renderAccount,
});
