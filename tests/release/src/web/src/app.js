// Test double of a Zulip server release, for the zulip.server Ansible
// collection tests.  NOT Zulip's web app.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
    document.body.dataset.zulipTestDouble = "loaded";
});
