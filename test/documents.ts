// GraphQL documents shared by several API test files. Operation and fragment names are unique
// project-wide (codegen reads every test file); a file that needs a different selection keeps
// its own document.
import { graphql } from './generated/index.js';

/** The evidence fields an order shows (without the signature or the T&C). */
graphql(`
  fragment EvidenceCoreFields on Evidence {
    id
    refId
    mobileNumber
    issuer
    methodName
    capabilities { jurisdiction loa }
    identifiedAt
    validUntil
    status
    subject { givenNames surname dateOfBirth nationality placeOfBirth }
  }
`);

/** placeOrder with the order's reference, status and partner side only. */
export const PlaceOrderBriefMutation = graphql(`
  mutation SharedPlaceOrderBrief($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order { refId status ipspOrderId targetUrl }
      userErrors { code field message }
    }
  }
`);

/** simulateIdentification with the order's status only. */
export const SimulateBriefMutation = graphql(`
  mutation SharedSimulateBrief($input: SimulateIdentificationInput!) {
    simulateIdentification(input: $input) {
      order { status }
      userErrors { code field message }
    }
  }
`);

/** cancelOrder with the order's status only. */
export const CancelOrderBriefMutation = graphql(`
  mutation SharedCancelOrderBrief($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { status }
      userErrors { code field message }
    }
  }
`);

/** reportIdentificationStatus with the order's status only. */
export const ReportStatusBriefMutation = graphql(`
  mutation SharedReportStatusBrief($input: ReportIdentificationStatusInput!) {
    reportIdentificationStatus(input: $input) {
      order { status }
      userErrors { code field message }
    }
  }
`);
