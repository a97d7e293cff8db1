package io.pgqrs.exampleapp;

/**
 * The payload of an {@code emails} message: the confirmation sent when an order has shipped.
 *
 * @param runId the checkout run, which is the order's id
 * @param to the customer's address
 * @param subject the subject line
 * @param body the text
 */
public record ConfirmationEmail(long runId, String to, String subject, String body) {}
