// Passkeys on the account pages: the only script they load. It asks the JSON passkey routes for the
// WebAuthn options, lets the browser make or use the credential, and posts it back; every other form of
// the pages works without JavaScript. Unsafe requests echo the csrftoken cookie in X-CSRFToken.
(function () {
  'use strict';

  function readCookie(name) {
    var prefix = name + '=';
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(prefix) === 0) return decodeURIComponent(parts[i].slice(prefix.length));
    }
    return null;
  }

  function post(url, body) {
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    var csrf = readCookie('csrftoken');
    if (csrf) headers['X-CSRFToken'] = csrf;
    return fetch(url, {
      method: 'POST', headers: headers, credentials: 'same-origin', body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
        if (!response.ok) {
          var failure = new Error((data && typeof data.detail === 'string') ? data.detail : 'Refused (' + response.status + ')');
          failure.status = response.status;
          failure.data = data;
          throw failure;
        }
        return data;
      });
    });
  }

  // The options may come as {publicKey: {...}} with an id to send back beside the credential.
  function unwrap(answer) {
    var options = answer && answer.publicKey ? answer.publicKey : answer;
    var extra = {};
    Object.keys(answer || {}).forEach(function (key) {
      if (key !== 'publicKey' && answer.publicKey) extra[key] = answer[key];
    });
    return { options: options, extra: extra };
  }

  function show(message) {
    var box = document.getElementById('passkey-error');
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  function supported() {
    return window.PublicKeyCredential && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';
  }

  function signIn(button) {
    var mfaToken = document.querySelector('input[name="mfa_token"]');
    var asked = mfaToken ? { mfa_token: mfaToken.value } : {};
    return post(button.dataset.options, asked).then(function (answer) {
      var parts = unwrap(answer);
      var publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(parts.options);
      return navigator.credentials.get({ publicKey: publicKey }).then(function (credential) {
        var body = Object.assign({}, parts.extra, asked, { credential: credential.toJSON() });
        return post(button.dataset.login, body);
      });
    }).then(function () {
      window.location.assign(button.dataset.next);
    });
  }

  function register(button) {
    var field = document.getElementById('passkey_name');
    var name = field && field.value.trim() ? field.value.trim() : 'Passkey';
    return post(button.dataset.options, {}).then(function (answer) {
      var parts = unwrap(answer);
      var publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(parts.options);
      return navigator.credentials.create({ publicKey: publicKey }).then(function (credential) {
        var body = Object.assign({}, parts.extra, { credential: credential.toJSON(), name: name });
        return post(button.dataset.register, body);
      });
    }).then(function () {
      window.location.assign(button.dataset.next);
    });
  }

  function wire(id, action) {
    var button = document.getElementById(id);
    if (!button) return;
    if (!supported()) {
      button.disabled = true;
      show('This browser cannot use passkeys here.');
      return;
    }
    button.addEventListener('click', function () {
      button.disabled = true;
      action(button).catch(function (error) {
        if (error && error.data && error.data.reauthentication_required) {
          window.location.assign(window.location.pathname + '?confirm=1');
          return;
        } else {
          show(error && error.name === 'NotAllowedError' ? 'No passkey was used: the request was cancelled, or this device holds none for this site.' : String(error.message || error));
        }
        button.disabled = false;
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    wire('passkey-sign-in', signIn);
    wire('passkey-add', register);
  });
})();
