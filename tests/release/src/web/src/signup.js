// Test double of a Zulip server release, for the zulip.server Ansible
// collection tests.  NOT Zulip's web app: the logged-out pages' bundle.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
    document.body.dataset.zulipTestDoublePage = "portico";
});
