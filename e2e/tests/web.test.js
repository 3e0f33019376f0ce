// End-to-end tests of the web interface in headless Chromium: sign in with a password and a
// one-time password, place an order, propose a transfer and have a second representative approve
// it (four eyes), read the compliance page; and the refusals a user sees.
//
// The registry is `yrd-ets demo --service` (demo users, four trading firms, Alpha trusting Beta);
// the server's clock starts on Monday 24 January 2022 at 10:00, inside the trading session and
// the trusted-transfer window.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEMO_PASSWORD, start, totp } from '../harness.js';

// The demo users' authenticator secrets, as `yrd-ets demo --service` prints them (the username
// padded with '-' to 20 bytes, base32).
const SECRET = {
  'alpha-trader': 'MFWHA2DBFV2HEYLEMVZC2LJNFUWS2LJN',
  'alpha-approver': 'MFWHA2DBFVQXA4DSN53GK4RNFUWS2LJN',
};

let env;
let trader; // alpha-trader's browser context, signed in once (a code is good for one use)

before(async () => {
  env = await start();
});

after(async () => {
  if (env) await env.stop();
});

/** Signs `username` in through the sign-in page of a new context; lands on `next`. */
async function signIn(username, next) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.base}/sign-in?next=${encodeURIComponent(next)}&live=0`);
  await page.getByTestId('sign-in-username').fill(username);
  await page.getByTestId('sign-in-password').fill(DEMO_PASSWORD);
  await page.getByTestId('sign-in-submit').click();
  await page.getByTestId('sign-in-otp').waitFor();
  await page.getByTestId('sign-in-otp').fill(totp(SECRET[username]));
  await page.getByTestId('sign-in-otp-submit').click();
  await page.waitForURL(`${env.base}${next}`);
  await page.getByTestId('signed-in-user').waitFor();
  return { context, page };
}

/** GET `path` of the API with the context's session cookie. */
async function apiGet(context, path) {
  const response = await context.request.get(`${env.base}${path}`);
  assert.equal(response.status(), 200, `${path}: ${await response.text()}`);
  return response.json();
}

test('a representative signs in with a one-time password and places an order', async () => {
  trader = await signIn('alpha-trader', '/accounts/TR-SH-ALPHA');
  const { page, context } = trader;
  assert.match(await page.getByTestId('signed-in-user').textContent(), /alpha-trader/);
  await page.getByTestId('holdings-table').waitFor();

  await page.getByTestId('order-class').selectOption('CN-SH/CEA/2020');
  await page.getByTestId('order-side').selectOption('sell');
  await page.getByTestId('order-price').fill('88.80');
  await page.getByTestId('order-quantity').fill('1200');
  await page.getByTestId('order-tif').selectOption('gtc');
  await page.getByTestId('order-submit').click();
  await page.getByTestId('order-status').getByTestId('receipt').waitFor();

  // The order rests on the book at CNY 88.80 = 8,880 fen per t, 1,200 t.
  const orders = await apiGet(context, '/v1/accounts/TR-SH-ALPHA/orders');
  const mine = orders.orders.filter((o) => o.price === 8880 && o.side === 'sell');
  assert.equal(mine.length, 1, JSON.stringify(orders));
  assert.equal(mine[0].remaining, 1200);
});

test('a transfer waits for a second representative, who approves it (four eyes)', async () => {
  const { page, context } = trader;
  const before = await apiGet(context, '/v1/accounts/TR-SH-ALPHA/holdings');
  const held = (h) => h.holdings.find((c) => c.class === 'CN-SH/CEA/2020').quantity;

  await page.getByTestId('transfer-to').fill('TR-JS-BETA');
  await page.getByTestId('transfer-class').selectOption('CN-SH/CEA/2020');
  await page.getByTestId('transfer-quantity').fill('2500');
  await page.getByTestId('transfer-submit').click();
  await page.getByTestId('transfer-status').getByTestId('receipt').waitFor();

  const proposed = (await apiGet(context, '/v1/accounts/TR-SH-ALPHA/transfers')).items[0];
  assert.equal(proposed.status, 'awaiting_approval');
  assert.equal(proposed.quantity, 2500);
  assert.equal(proposed.initiator, 'alpha-trader');
  // Nothing moved yet.
  assert.equal(held(await apiGet(context, '/v1/accounts/TR-SH-ALPHA/holdings')), held(before));

  // The initiator is not offered the approval; and the server refuses it if asked directly.
  await page.goto(`${env.base}/approvals?live=0`);
  const ownRow = page.locator(`[data-testid="transfer-row"][data-transfer="${proposed.transfer}"]`);
  await ownRow.waitFor();
  assert.equal(await ownRow.getByTestId('approve-transfer').count(), 0);
  const direct = await context.request.post(`${env.base}/v1/transactions`, {
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'self-approval' },
    data: { command: { type: 'approve_transfer', transfer: proposed.transfer } },
  });
  assert.equal(direct.status(), 403);
  assert.equal((await direct.json()).error.code, 'FORBIDDEN');
  assert.equal((await apiGet(context, '/v1/accounts/TR-SH-ALPHA/transfers')).items[0].status, 'awaiting_approval');

  // The additional authorised representative approves: Beta is on Alpha's trusted list and it is
  // 10:00 on a working day, so the transfer executes at once (EU Reg. 2019/1122 Art. 35).
  const approver = await signIn('alpha-approver', '/approvals');
  const row = approver.page.locator(`[data-testid="transfer-row"][data-transfer="${proposed.transfer}"]`);
  await row.getByTestId('approve-transfer').click();
  await approver.page.getByTestId('approval-status').getByTestId('receipt').waitFor();

  const done = (await apiGet(approver.context, '/v1/accounts/TR-SH-ALPHA/transfers')).items[0];
  assert.equal(done.transfer, proposed.transfer);
  assert.equal(done.status, 'executed');
  assert.equal(done.approver, 'alpha-approver');
  const after = await apiGet(approver.context, '/v1/accounts/TR-SH-ALPHA/holdings');
  assert.equal(held(after), held(before) - 2500);
  await approver.context.close();
});

test('the public reads compliance by jurisdiction', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.base}/compliance?live=0&lang=en`);
  const summary = page.getByTestId('compliance-summary-table');
  await summary.waitFor();
  const text = await summary.textContent();
  for (const j of ['CN-SH', 'CN-JS', 'CN-ZJ', 'CN-AH']) assert.match(text, new RegExp(j));
  // The installation table lists the demo's 595 facilities page by page.
  const rows = page.getByTestId('compliance-table').locator('tbody tr');
  assert.ok((await rows.count()) > 0);
  await context.close();
});

test('a wrong password and a wrong one-time password are refused with a message', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.base}/sign-in?live=0&lang=en`);
  await page.getByTestId('sign-in-username').fill('beta-trader');
  await page.getByTestId('sign-in-password').fill('not the password');
  await page.getByTestId('sign-in-submit').click();
  await page.getByTestId('sign-in-status').locator('[role=alert]').waitFor();
  assert.match(await page.getByTestId('sign-in-status').textContent(), /incorrect|invalid|wrong/i);

  await page.getByTestId('sign-in-password').fill(DEMO_PASSWORD);
  await page.getByTestId('sign-in-submit').click();
  await page.getByTestId('sign-in-otp').waitFor();
  await page.getByTestId('sign-in-otp').fill('000000');
  await page.getByTestId('sign-in-otp-submit').click();
  await page.getByTestId('sign-in-status').locator('[role=alert]').waitFor();
  // Still not fully signed in: an order from Beta's account needs the second factor.
  const session = await (await context.request.get(`${env.base}/v1/session`)).json();
  assert.equal(session.second_factor, false);
  await context.close();
});
