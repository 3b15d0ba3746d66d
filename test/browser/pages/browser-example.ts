// Mounts sdk/examples/browser-sign-in.ts on the form of the page that
// cross-origin.test.ts serves, with the service's URL from `?api=`.
import { mountSignIn } from "../../../sdk/examples/browser-sign-in.js";

const form = document.getElementById("sign-in") as HTMLFormElement;
mountSignIn(form, new URLSearchParams(window.location.search).get("api") ?? "");
form.dataset.ready = "true";
