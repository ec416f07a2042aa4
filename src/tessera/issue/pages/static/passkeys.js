// Passkey ceremonies for Tessera's sign-in and account pages. No framework, no build step:
// the pages carry their endpoints and CSRF token in data-* attributes, and this file does the
// rest (the CSP allows scripts from the provider's own origin only, never inline).
"use strict";

(function () {
  function fromB64url(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  function toB64url(buffer) {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) }));
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      // keeps the real Origin header (the server checks it) even under a no-referrer page policy
      referrerPolicy: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch (e) {
      answer = {};
    }
    if (!response.ok) {
      if (answer.redirect) window.location.assign(answer.redirect);
      throw new Error(answer.error_description || "Something went wrong. Try again.");
    }
    return answer;
  }

  function showError(message) {
    const box = document.getElementById("passkey-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  function credentialJSON(credential, response) {
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toB64url(credential.response.clientDataJSON), ...response },
    };
  }

  function assertionJSON(credential) {
    const r = credential.response;
    return credentialJSON(credential, {
      authenticatorData: toB64url(r.authenticatorData),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : undefined,
    });
  }

  function attestationJSON(credential) {
    const r = credential.response;
    return credentialJSON(credential, {
      attestationObject: toB64url(r.attestationObject),
      transports: r.getTransports ? r.getTransports() : [],
    });
  }

  function setUpSignIn(section) {
    const d = section.dataset;
    let autofill = null;

    async function signIn(mediation) {
      const options = await post(d.options, { csrf: d.csrf });
      options.challenge = fromB64url(options.challenge);
      options.allowCredentials = descriptors(options.allowCredentials);
      const request = { publicKey: options };
      if (mediation) {
        autofill = new AbortController();
        request.mediation = mediation;
        request.signal = autofill.signal;
      }
      const credential = await navigator.credentials.get(request);
      const answer = await post(d.verify, {
        csrf: d.csrf,
        request: d.request,
        then: d.then,
        credential: assertionJSON(credential),
      });
      window.location.assign(answer.redirect);
    }

    section.hidden = false;
    document.getElementById("passkey-button").addEventListener("click", () => {
      if (autofill) autofill.abort();
      autofill = null;
      signIn(null).catch((e) => {
        if (e.name !== "AbortError") showError(e.name === "NotAllowedError" ? "No passkey was used." : e.message);
      });
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
        if (!available) return;
        signIn("conditional").catch((e) => {
          if (e.name !== "AbortError" && e.name !== "NotAllowedError") showError(e.message);
        });
      });
    }
  }

  function setUpAdd(section) {
    const d = section.dataset;
    section.hidden = false;
    document.getElementById("passkey-add-button").addEventListener("click", async () => {
      try {
        const options = await post(d.options, { csrf: d.csrf });
        options.challenge = fromB64url(options.challenge);
        options.user.id = fromB64url(options.user.id);
        options.excludeCredentials = descriptors(options.excludeCredentials);
        const credential = await navigator.credentials.create({ publicKey: options });
        const answer = await post(d.verify, {
          csrf: d.csrf,
          name: document.getElementById("passkey-name").value,
          credential: attestationJSON(credential),
        });
        window.location.assign(answer.redirect);
      } catch (e) {
        showError(e.name === "NotAllowedError" ? "No passkey was created." : e.message);
      }
    });
  }

  if (!window.PublicKeyCredential) return;
  const signInSection = document.getElementById("passkey-signin");
  if (signInSection) setUpSignIn(signInSection);
  const addSection = document.getElementById("passkey-add");
  if (addSection) setUpAdd(addSection);
})();
