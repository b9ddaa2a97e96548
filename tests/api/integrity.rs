//! Integrity: a case about one merchant's payment rests on that merchant's records only
//! (DESIGN.md §3.2). An RRN is unique per host and clearing day, not across merchants: another
//! merchant's journal row or credit carrying the same RRN must change nothing.

use redress::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, get_case, import, post_claim, sample};

/// The README's example payment: merchant A's terminal got no answer, the card was charged.
const MERCHANT_A: &str = "828844912590296";
/// Another demo merchant, whose staff can import journals for it alone.
const MERCHANT_B: &str = "821838866205910";

const JOURNAL_HEADER: &str = "merchant_id,terminal_id,batch_no,trace_no,rrn,auth_code,txn_type,status,receipt_printed,card,amount,currency,local_time,orig_trace_no,orig_batch_no,response_code,terminal_event";
const SETTLEMENT_HEADER: &str =
    "entry_id,merchant_id,terminal_id,trace_no,rrn,card,direction,amount,currency,txn_time,settled_on,orig_rrn";

fn readme_claim(email: &str) -> Value {
    json!({"kind": "no_receipt", "card_last4": "2015", "amount": "954.82",
           "occurred_at": "2026-11-12T13:20+08:00", "contact_email": email})
}

/// Merchant B's staff import one approved, printed sale that carries the RRN of merchant A's debit.
async fn merchant_b_claims_rrn(app: &TestApp, rrn: &str, card: &str, amount: &str, time: &str) {
    let b_staff = app.token(Role::Merchant, &[MERCHANT_B]).await;
    let row =
        format!("{MERCHANT_B},74222276,000002,000051,{rrn},654321,sale,approved,true,{card},{amount},CNY,{time},,,00,");
    import(app, &b_staff, "journal", format!("{JOURNAL_HEADER}\n{row}\n")).await;
}

#[tokio::test]
async fn another_merchants_journal_row_with_the_same_rrn_changes_no_finding() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let (agent, bank) = (app.token(Role::Agent, &[]).await, app.token(Role::Customer, &[]).await);
    import(&app, &agent, "journal", sample("journal.csv")).await;
    import(&app, &agent, "settlement", sample("settlement.csv")).await;
    // As the issue reproduced it: B's row arrives, then A's customer files the README's claim.
    merchant_b_claims_rrn(&app, "000004267530", "623668******2015", "954.82", "2026-11-12T13:20:33+08:00").await;
    let filed = post_claim(&app, &bank, readme_claim("holder1@example.com")).await;
    // Decided on A's records: A's terminal never got an answer, so the reversal is due.
    assert_eq!((filed["state"].as_str(), filed["finding"].as_str()), (Some("reversal_pending"), Some("reversal_due")));
    assert_eq!(filed["remedy"]["kind"], "reversal");
    assert_eq!(filed["matched"][0]["merchant_id"], MERCHANT_A);
    let again = get_case(&app, &agent, &filed["id"]).await;
    assert_eq!(again["state"], "reversal_pending");
}

#[tokio::test]
async fn a_case_waiting_for_its_journal_ignores_another_merchants_row_and_its_receipt_names_its_own_shop() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let (agent, bank) = (app.token(Role::Agent, &[]).await, app.token(Role::Customer, &[]).await);
    import(&app, &agent, "settlement", sample("settlement.csv")).await;
    let claim = json!({"kind": "no_receipt", "card_last4": "2470", "amount": "2220.99",
                       "occurred_at": "2026-11-05T17:15:05+08:00", "contact_email": "holder0@example.com"});
    let filed = post_claim(&app, &bank, claim).await;
    assert_eq!(filed["finding"], "journal_missing");

    // B's row with A's RRN arrives first: the case keeps waiting for A's journal.
    merchant_b_claims_rrn(&app, "000004267463", "620522******2470", "2220.99", "2026-11-05T17:15:05+08:00").await;
    let waiting = get_case(&app, &agent, &filed["id"]).await;
    assert_eq!(
        (waiting["state"].as_str(), waiting["finding"].as_str()),
        (Some("awaiting_merchant"), Some("journal_missing"))
    );

    // A's own journal decides it, and the e-receipt is A's row, not B's (imported earlier).
    import(&app, &agent, "journal", sample("journal.csv")).await;
    let decided = get_case(&app, &agent, &filed["id"]).await;
    assert_eq!(decided["finding"], "valid_sale_no_receipt", "{decided}");
    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let page = desk.get(&format!("/cases/{}", filed["id"])).await;
    assert_eq!(page.status, 200);
    let values = page.select_all("section.receipt dd");
    assert!(values.contains(&"835883278854443".to_owned()), "receipt names A's merchant id: {values:?}");
    assert!(values.contains(&"57704830".to_owned()), "receipt names A's terminal: {values:?}");
    assert!(!values.iter().any(|v| v == MERCHANT_B || v == "74222276"), "receipt shows B's row: {values:?}");
}

#[tokio::test]
async fn another_merchants_credit_with_the_same_orig_rrn_pays_back_nothing() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let (agent, bank) = (app.token(Role::Agent, &[]).await, app.token(Role::Customer, &[]).await);
    import(&app, &agent, "journal", sample("journal.csv")).await;
    import(&app, &agent, "settlement", sample("settlement.csv")).await;
    let filed = post_claim(&app, &bank, readme_claim("holder1@example.com")).await;
    assert_eq!(filed["state"], "reversal_pending");

    // B's acquirer line: a credit of the owed amount naming A's debit's RRN.
    let foreign = format!(
        "{SETTLEMENT_HEADER}\nCLRB00000001,{MERCHANT_B},74222276,000077,000009999001,623668******2015,credit,954.82,CNY,2026-11-13T02:00:00Z,2026-11-14,000004267530\n"
    );
    import(&app, &agent, "settlement", foreign).await;
    let still = get_case(&app, &agent, &filed["id"]).await;
    assert_eq!(still["state"], "reversal_pending", "B's credit resolved A's case: {still}");

    // A's own credit does resolve it.
    let own = format!(
        "{SETTLEMENT_HEADER}\nCLRA00000001,{MERCHANT_A},88360045,000078,000009999002,623668******2015,credit,954.82,CNY,2026-11-13T03:00:00Z,2026-11-14,000004267530\n"
    );
    import(&app, &agent, "settlement", own).await;
    let resolved = get_case(&app, &agent, &filed["id"]).await;
    assert_eq!(resolved["state"], "resolved", "{resolved}");
}
