package io.pgqrs.exampleapp;

/**
 * A validated order, the checkout workflow's input (stored with the run as JSON).
 *
 * @param item what is bought, 1 to 200 characters
 * @param quantity how many, 1 to 1000
 * @param customerEmail where the confirmation goes
 */
public record Order(String item, int quantity, String customerEmail) {}
