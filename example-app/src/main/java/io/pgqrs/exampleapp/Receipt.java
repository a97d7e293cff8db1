package io.pgqrs.exampleapp;

/**
 * The checkout workflow's output, recorded with the run when it succeeds.
 *
 * @param paymentId the charge
 * @param shipmentId the shipment
 * @param confirmationMessageId the id of the confirmation's message in the {@code emails} queue
 */
public record Receipt(String paymentId, String shipmentId, long confirmationMessageId) {}
